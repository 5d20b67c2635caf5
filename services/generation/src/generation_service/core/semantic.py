"""The semantic cache's pure parts: entries, a scope's vector index, the cache's economics.

An entry says "the question with this vector and these content words was answered under
exact key `digest`, from retrieval started at `computed_ms`". Entries live in Redis (the
source of truth, shared by every replica); each replica keeps a `ScopeIndex` per scope as a
local copy to search.

A hit needs two things: cosine similarity at or above the threshold, and the same content
words (`content_terms`: the question's words without function words, stemmed, numbers
kept). The embedding model alone cannot tell "leave for a birth parent" from "leave for a
non-birth parent" (0.97) while it scores true rephrasings far lower (EVALUATION.md), so
the words guard against serving the answer of a near miss.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import snowballstemmer

from contracts.rpc import assistant_pb2

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

_HEAD = struct.Struct(">32sqQ")  # sha256 digest of the exact key, computed_ms, terms
# Function words: questions that differ only in these ask the same thing. Negations and
# words of time, place or degree ("not", "before", "within", "peak") are NOT here.
_STOPWORDS = frozenset(
    """a an the is are was were be been being am do does did doing done have has had having
    i me my we our you your he she it its they them their what which who whom when where
    why how whose this that these those there here of in on at by for with from to into
    about as and or so if than can could may might must shall should will would need needs
    please hi hello tell know want like get gets got getting much many whats""".split()
)
_WORD = re.compile(r"[a-z]+|\d+(?:[.,]\d+)*")
_STEMMER = snowballstemmer.stemmer("english")
_POSSESSIVE = re.compile("['\u2019]s\\b")


def content_terms(question: str) -> frozenset[str]:
    """The question's content words: lowercased, stemmed, without function words and "'s"."""
    text = _POSSESSIVE.sub("", question.lower())
    return frozenset(
        word.replace(",", "") if word[0].isdigit() else _STEMMER.stemWord(word)
        for word in _WORD.findall(text)
        if word not in _STOPWORDS
    )


def terms_key(question: str) -> int:
    """A 64-bit digest of the question's content words (entries store it, not the words)."""
    joined = "\x1f".join(sorted(content_terms(question))).encode()
    return int.from_bytes(hashlib.blake2b(joined, digest_size=8).digest(), "big")


@dataclass(frozen=True)
class SemanticEntry:
    """One answered question of a scope: its exact key's digest, when, and its vector."""

    digest: str
    computed_ms: int
    #: `terms_key` of the question: a hit needs the same content words.
    terms: int
    vector: np.ndarray

    def encode(self) -> bytes:
        """The Redis member: digest, computed_ms, terms, float32 vector (unit length)."""
        head = _HEAD.pack(bytes.fromhex(self.digest), self.computed_ms, self.terms)
        return head + _unit(self.vector).astype("<f4").tobytes()

    @classmethod
    def decode(cls, raw: bytes) -> SemanticEntry:
        """The inverse of `encode`; ValueError on a member of another shape."""
        if len(raw) <= _HEAD.size or (len(raw) - _HEAD.size) % 4:
            raise ValueError(f"not a semantic cache entry ({len(raw)} bytes)")
        digest, computed_ms, terms = _HEAD.unpack_from(raw)
        vector = np.frombuffer(raw, dtype="<f4", offset=_HEAD.size).astype(np.float32)
        return cls(digest.hex(), computed_ms, terms, vector)


@dataclass(frozen=True)
class SemanticMatch:
    """The closest fresh entry above the threshold."""

    digest: str
    similarity: float


class ScopeIndex:
    """Brute-force cosine search over one scope's entries (one digest, its newest entry).

    A scope is one tenant, group set, prompt version and set of request fields, so it
    holds the questions asked under exactly those; a matrix product over a few thousand
    384-d rows takes well under a millisecond, and needs no index build.
    """

    def __init__(self) -> None:
        self._rows: dict[str, SemanticEntry] = {}
        self._matrix: np.ndarray | None = None
        self._order: list[str] = []
        #: Redis insert time (ms) of the newest entry read; the next read starts near it.
        self.synced_ms: float | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, entries: Iterable[SemanticEntry]) -> None:
        """Add entries; of two with one digest the later computed one stays."""
        changed = False
        for entry in entries:
            if self._rows and entry.vector.shape != next(iter(self._rows.values())).vector.shape:
                continue  # written under another embedding model: never comparable
            current = self._rows.get(entry.digest)
            if current is None or entry.computed_ms > current.computed_ms:
                self._rows[entry.digest] = entry
                changed = True
        if changed:
            self._matrix = None

    def drop(self, *, not_after_ms: int) -> None:
        """Forget entries computed at or before `not_after_ms` (stale or expired)."""
        stale = [d for d, e in self._rows.items() if e.computed_ms <= not_after_ms]
        for digest in stale:
            del self._rows[digest]
        if stale:
            self._matrix = None

    def best(
        self,
        vector: Sequence[float] | np.ndarray,
        *,
        terms: int,
        threshold: float,
        fresh_after_ms: int,
    ) -> SemanticMatch | None:
        """The most similar entry with these terms, computed after `fresh_after_ms`, if at
        least `threshold` similar."""
        if not self._rows:
            return None
        if self._matrix is None:
            self._order = list(self._rows)
            self._matrix = np.stack([self._rows[d].vector for d in self._order])
        query = np.asarray(vector, dtype=np.float32)
        if query.shape != self._matrix.shape[1:]:
            return None
        scores = self._matrix @ _unit(query)
        eligible = np.array(
            [
                self._rows[d].computed_ms > fresh_after_ms and self._rows[d].terms == terms
                for d in self._order
            ]
        )
        scores = np.where(eligible, scores, -np.inf)
        at = int(np.argmax(scores))
        similarity = float(scores[at])
        if similarity < threshold:
            return None
        return SemanticMatch(self._order[at], round(min(similarity, 1.0), 6))


def cost_of(response: assistant_pb2.AskResponse) -> assistant_pb2.AnswerCost:
    """What computing this answer took: its engine's usage and its total time."""
    return assistant_pb2.AnswerCost(
        prompt_tokens=response.usage.prompt_tokens,
        completion_tokens=response.usage.completion_tokens,
        cost_usd=response.usage.cost_usd,
        ms=response.timings.total_ms,
    )


def computed_outcome(
    response: assistant_pb2.AskResponse, *, result: int, semantic_skipped: str = ""
) -> assistant_pb2.CacheOutcome:
    """A miss or skipped lookup: the answer was computed, and this is what it cost."""
    return assistant_pb2.CacheOutcome(
        result=result,  # type: ignore[arg-type] - a CacheResult value
        spent=cost_of(response),
        semantic_skipped=semantic_skipped,
    )


def hit_outcome(
    cached: assistant_pb2.AskResponse, *, similarity: float | None
) -> assistant_pb2.CacheOutcome:
    """A hit saves what the cached answer cost when it was computed (its recorded `spent`)."""
    saved = assistant_pb2.AnswerCost()
    if cached.HasField("cache") and cached.cache.HasField("spent"):
        saved.CopyFrom(cached.cache.spent)
    else:  # cached before answers carried their economics: usage, and no time on record
        saved.CopyFrom(cost_of(cached))
    if similarity is None:
        return assistant_pb2.CacheOutcome(result=assistant_pb2.CACHE_RESULT_EXACT_HIT, saved=saved)
    return assistant_pb2.CacheOutcome(
        result=assistant_pb2.CACHE_RESULT_SEMANTIC_HIT, similarity=similarity, saved=saved
    )


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
