"""BM25 as sparse vectors: term-frequency saturation here, IDF in the index.

Qdrant's sparse vectors with the IDF modifier compute inverse document frequency
over the live collection, so only the document-side term weight is ours:
tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len)). Queries weigh each
distinct term 1, which makes the dot product exactly BM25.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass

import mmh3
import snowballstemmer

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# Function words carry no topic; dropping them keeps postings short.
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves""".split()
)
# Stemming is most of the encoding cost (pure Python, ~50 us a word, 3 ms a chunk); text
# repeats its words, so a memo of stems makes encoding many times cheaper and changes nothing.
_STEM_CACHE_WORDS = 1 << 16


@dataclass(frozen=True)
class SparseVector:
    """Term ids (32-bit hashes of stems) and weights."""

    indices: list[int]
    values: list[float]


class Bm25Encoder:
    """Tokenizes, drops stopwords, stems, hashes; weights terms for documents or queries."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75, avg_len: float = 60.0) -> None:
        self._k1 = k1
        self._b = b
        self._avg_len = avg_len
        self._stem = functools.lru_cache(maxsize=_STEM_CACHE_WORDS)(
            snowballstemmer.stemmer("english").stemWord
        )

    def terms(self, text: str) -> list[str]:
        """Stemmed content words of `text`, in order."""
        return [self._stem(w) for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS]

    def encode_document(self, text: str) -> SparseVector:
        """BM25 term weights of a passage."""
        terms = self.terms(text)
        counts = Counter(terms)
        norm = self._k1 * (1 - self._b + self._b * len(terms) / self._avg_len)
        weights: dict[int, float] = {}
        for term, tf in counts.items():
            index = _term_id(term)
            weights[index] = weights.get(index, 0.0) + tf * (self._k1 + 1) / (tf + norm)
        return SparseVector(indices=list(weights), values=list(weights.values()))

    def encode_query(self, text: str) -> SparseVector:
        """Weight 1 per distinct query term."""
        indices = sorted({_term_id(t) for t in self.terms(text)})
        return SparseVector(indices=indices, values=[1.0] * len(indices))


def _term_id(term: str) -> int:
    return mmh3.hash(term, signed=False)
