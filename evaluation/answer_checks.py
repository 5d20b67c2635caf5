"""Boolean checks on one answer, and their pass rates: pure functions, no I/O.

Four checks, each applicable to some answers only (a rate is passes over applicable answers):

- **cites_relevant**: a question with relevant documents (qrels) is answered with at least one
  citation of one of them.
- **contains_fact**: a question with an expected fact (an any-of list of short strings) is
  answered with text that contains one of them, after `normalize` on both sides.
- **supported**: every sentence of an answer from the documents (not a "not found") is
  supported by the passages it cites: at least `SUPPORT_THRESHOLD` of its content words
  (lower case, stop words, citation markers and one-letter words left out, a plural `s`
  dropped) occur in the text of the passages its markers name (all cited passages when it
  names none). An answer from the documents that cites nothing fails it.
- **says_not_found**: a question the corpus cannot answer is answered with one of the
  platform's "not found" phrasings (`NOT_FOUND_PATTERN`), and nothing else counts.

An answer passes overall when every check applicable to it passes.
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "CHECKS",
    "NOT_FOUND_PATTERN",
    "SUPPORT_THRESHOLD",
    "AnswerRecord",
    "Expectation",
    "Expects",
    "Summary",
    "cites_relevant",
    "contains_fact",
    "normalize",
    "percentile",
    "says_not_found",
    "score",
    "sentence_support",
    "summarize",
    "supported",
]

CHECKS = ("cites_relevant", "contains_fact", "supported", "says_not_found")
#: Share of a sentence's content words that must occur in its cited passages.
SUPPORT_THRESHOLD = 0.75
#: The platform's ways of declining: the extractive engine's and the model prompts'
#: "not found", and the output guardrail's refusal of an answer it found ungrounded.
NOT_FOUND_PATTERN = re.compile(
    r"not found in (?:your|the) documents|could not find an answer"
    r"|could not produce an answer that your documents support",
    re.IGNORECASE,
)
_MARKER = re.compile(r"\[(\d+)\]")
_WORD = re.compile(r"[^\W_]+(?:[._-][^\W_]+)*", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
#: Markers written after a sentence's full stop ("... per year. [1]") belong to that sentence.
_TRAILING_MARKERS = re.compile(r"([.!?])((?:\s*\[\d+\])+)")
_DIGIT_GROUP = re.compile(r"(?<=\d),(?=\d{3}\b)")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_STOP = frozenset(
    "a an and are as at be been but by can could do does for from had has have how i if in "
    "into is it its may me must my no not of on or our per shall should so such than that the "
    "their them then there these they this those to was we were what when where which who "
    "why will with would you your according".split()
)


class Expects(Protocol):
    """What a question asks of its answer (an Expectation, or a question set's question)."""

    @property
    def relevant(self) -> frozenset[str]:
        """Documents whose citation counts; empty: the check does not apply."""

    @property
    def facts(self) -> tuple[str, ...]:
        """Any of these in the answer; empty: the check does not apply."""

    @property
    def answerable(self) -> bool:
        """False: the answer must say "not found"."""


@dataclass(frozen=True)
class Expectation:
    """What a question asks of its answer: relevant documents, facts, or "not found"."""

    relevant: frozenset[str] = frozenset()
    facts: tuple[str, ...] = ()
    answerable: bool = True


@dataclass(frozen=True)
class AnswerRecord:
    """One answer as scored: its text, what it cited, and where it came from."""

    text: str
    #: Citation marker -> (document id, text of the cited passage).
    citations: Mapping[int, tuple[str, str]]
    #: "documents" or "calculator", as the response recorded it.
    route: str = "documents"
    latency_ms: float = 0.0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class Summary:
    """Pass rates of one engine and routing policy over one question set."""

    label: str
    answers: int
    #: check -> (passes, applicable answers)
    checks: dict[str, tuple[int, int]] = field(default_factory=dict)
    overall: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    cost_per_answer_usd: float = 0.0

    def rate(self, check: str) -> float | None:
        """Pass rate of `check`, or None when it applied to no answer."""
        passed, applicable = self.checks.get(check, (0, 0))
        return passed / applicable if applicable else None


def normalize(text: str) -> str:
    """Lower case, NFKC, plain quotes, no markers, emphasis or digit-group commas, one space."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    text = _MARKER.sub(" ", text).replace("*", "").replace("`", "")
    return " ".join(_DIGIT_GROUP.sub("", text).split())


def says_not_found(answer: str) -> bool:
    """Whether the answer declines in one of the platform's phrasings."""
    return bool(NOT_FOUND_PATTERN.search(answer))


def contains_fact(answer: str, facts: Iterable[str]) -> bool:
    """Whether the normalized answer contains one of the normalized facts, as whole words
    at its edges ("95" is not in "1995", "0.67" not in "0.675")."""
    text = normalize(answer)
    for fact in filter(None, map(normalize, facts)):
        before = r"(?<!\w)" if fact[0].isalnum() else ""
        after = r"(?!\w)" if fact[-1].isalnum() else ""
        if re.search(before + re.escape(fact) + after, text):
            return True
    return False


def cites_relevant(cited_documents: Iterable[str], relevant: Iterable[str]) -> bool:
    """Whether at least one cited document is relevant."""
    return not set(relevant).isdisjoint(cited_documents)


def sentence_support(sentence: str, passages: Iterable[str]) -> float:
    """Share of the sentence's content words found in the passages (1.0 when it has none)."""
    words = _content_words(sentence)
    if not words:
        return 1.0
    found = set().union(*(_content_words(p) for p in passages))
    return len(words & found) / len(words)


def supported(
    answer: str,
    citations: Mapping[int, tuple[str, str]],
    *,
    threshold: float = SUPPORT_THRESHOLD,
) -> bool:
    """Whether every sentence reaches `threshold` against the passages it cites."""
    if not citations:
        return False
    everything = [text for _, text in citations.values()]
    for sentence in _sentences(answer):
        named = [int(m) for m in _MARKER.findall(sentence)]
        passages = [citations[m][1] for m in named if m in citations] or everything
        if sentence_support(sentence, passages) < threshold:
            return False
    return True


def score(record: AnswerRecord, expectation: Expects) -> dict[str, bool]:
    """The checks applicable to this answer, each passed or not."""
    results: dict[str, bool] = {}
    declined = says_not_found(record.text)
    if not expectation.answerable:
        results["says_not_found"] = declined
    if expectation.relevant:
        cited = (document for document, _ in record.citations.values())
        results["cites_relevant"] = cites_relevant(cited, expectation.relevant)
    if expectation.facts:
        results["contains_fact"] = contains_fact(record.text, expectation.facts)
    if record.route == "documents" and not declined:
        results["supported"] = supported(record.text, record.citations)
    return results


def summarize(label: str, scored: Sequence[tuple[AnswerRecord, dict[str, bool]]]) -> Summary:
    """Pass rate per check and overall, latency p50/p95 and mean cost of the answers."""
    checks = {
        check: (
            sum(results[check] for _, results in scored if check in results),
            sum(check in results for _, results in scored),
        )
        for check in CHECKS
    }
    latencies = [record.latency_ms for record, _ in scored]
    return Summary(
        label=label,
        answers=len(scored),
        checks=checks,
        overall=statistics.fmean(all(r.values()) for _, r in scored) if scored else 0.0,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        cost_per_answer_usd=statistics.fmean(r.cost_usd for r, _ in scored) if scored else 0.0,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks (as metrics.py)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _sentences(text: str) -> list[str]:
    text = _TRAILING_MARKERS.sub(r"\2\1", text)
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _content_words(text: str) -> set[str]:
    words = set()
    for word in _WORD.findall(normalize(text)):
        if len(word) < 2 or word in _STOP:
            continue
        words.add(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return words
