"""The answer engine interface and the grounded extractive engine.

An engine turns a question and ranked passages into answer text with citation
markers. The extractive engine picks the passages' sentences that best cover the
question, so every claim is a quotation; a model on Triton or an OpenAI-compatible
endpoint implements the same Protocol.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import snowballstemmer

if TYPE_CHECKING:
    from collections.abc import Sequence

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_STOP = frozenset(
    "a an and are as at be by can do does for from how i in is it of on or our the this to "
    "what when where which who why will with you your my we me".split()
)
_RELATIVE_CUTOFF = 0.75
NO_ANSWER = "I could not find an answer to that in your documents."


@dataclass(frozen=True)
class SourcePassage:
    """A retrieved passage as the engine sees it."""

    chunk_id: str
    title: str
    text: str


@dataclass(frozen=True)
class EngineAnswer:
    """Answer text, the passages cited (by index into the input), and token counts."""

    text: str
    cited: list[int]
    snippets: dict[int, str]
    prompt_tokens: int
    completion_tokens: int
    model: str


class AnswerEngine(Protocol):
    """Question + passages -> answer with [n] markers."""

    name: str

    async def answer(self, question: str, passages: Sequence[SourcePassage]) -> EngineAnswer:
        """Produce one answer."""
        ...


class ExtractiveEngine:
    """Quotes the best-matching sentences, at most `max_sentences`, with citations.

    `stemmed` matches words by their Snowball stem ("passwords" meets "password", "renewed"
    meets "renewal"'s "renew"): the `extractive-stemmed` model of prompt `extractive@2`.
    """

    def __init__(
        self, *, max_sentences: int = 3, min_overlap: float = 0.34, stemmed: bool = False
    ) -> None:
        self._max_sentences = max_sentences
        self._min_overlap = min_overlap
        self._terms = _stemmed_terms if stemmed else _terms
        # Recorded as the answer's model (Usage.model): the prompt version it serves.
        self.name = "extractive@2" if stemmed else "extractive@1"

    async def answer(self, question: str, passages: Sequence[SourcePassage]) -> EngineAnswer:
        """Rank sentences by question-term coverage, weighted by passage rank."""
        terms = self._terms(question)
        prompt_tokens = _count_tokens(question) + sum(_count_tokens(p.text) for p in passages)
        scored: list[tuple[float, int, int, str]] = []
        for rank, passage in enumerate(passages):
            for position, sentence in enumerate(_SENTENCE.split(passage.text)):
                coverage = len(terms & self._terms(sentence)) / len(terms) if terms else 0.0
                if coverage >= self._min_overlap:
                    # Earlier passages won fusion; break ties toward them.
                    scored.append((coverage / (1 + 0.1 * rank), rank, position, sentence.strip()))
        if not scored:
            return EngineAnswer(
                NO_ANSWER, [], {}, prompt_tokens, _count_tokens(NO_ANSWER), self.name
            )
        top = max(s[0] for s in scored)
        # Only sentences nearly as good as the best: a weak match adds noise, not support.
        best = sorted((s for s in scored if s[0] >= top * _RELATIVE_CUTOFF), key=lambda s: -s[0])
        best = best[: self._max_sentences]
        best.sort(key=lambda s: (s[1], s[2]))  # read in document order
        cited: list[int] = []
        snippets: dict[int, str] = {}
        parts: list[str] = []
        for _, rank, _, sentence in best:
            if rank not in cited:
                cited.append(rank)
                snippets[rank] = sentence
            parts.append(f"{sentence} [{cited.index(rank) + 1}]")
        text = " ".join(parts)
        return EngineAnswer(text, cited, snippets, prompt_tokens, _count_tokens(text), self.name)


def _terms(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def _stemmed_terms(text: str) -> set[str]:
    return {_stem(w) for w in _terms(text)}


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


_STEMMER = snowballstemmer.stemmer("english")


def _count_tokens(text: str) -> int:
    """Whitespace words: this engine has no tokenizer; model engines report real counts."""
    return len(text.split())
