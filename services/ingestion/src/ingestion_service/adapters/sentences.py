"""Sentence boundaries from pysbd (rule-based, abbreviations and decimals aware)."""

from __future__ import annotations

import threading

import pysbd

# A segmenter keeps the text it works on in itself: one per thread (parsing runs in
# worker threads, the consumer's and gRPC's at once).
_local = threading.local()


def _segmenter() -> pysbd.Segmenter:
    segmenter = getattr(_local, "segmenter", None)
    if segmenter is None:
        segmenter = _local.segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return segmenter


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`; together they cover it."""
    spans = [(s.start, s.end) for s in _segmenter().segment(text)]
    return spans or [(0, len(text))]
