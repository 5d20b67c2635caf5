"""Groundedness: the share of answer sentences whose content words appear in the passages."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_CITATION = re.compile(r"\[\d+\]")
# A sentence is supported when most of its content words occur in some passage.
_SUPPORT_THRESHOLD = 0.6
_MIN_WORD_LEN = 3


def groundedness(answer: str, passages: list[str]) -> float:
    """1.0 when every sentence of `answer` is supported by at least one passage."""
    sentences = [s for s in _SENTENCE.split(_CITATION.sub("", answer)) if _content(s)]
    if not sentences:
        return 1.0
    vocabularies = [_content(p) for p in passages]
    supported = 0
    for sentence in sentences:
        words = _content(sentence)
        best = max((len(words & vocab) / len(words) for vocab in vocabularies), default=0.0)
        supported += best >= _SUPPORT_THRESHOLD
    return supported / len(sentences)


def _content(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) >= _MIN_WORD_LEN}
