"""Chunks of a batch of documents are embedded in bounded slices and land on their own chunks."""

from __future__ import annotations

import asyncio

import numpy as np

from contracts import Chunk, DocumentChunked, Operation
from contracts.events import utc_now
from embedding_service.handlers import _TEXTS_PER_CALL, _embed


class _RecordingEncoder:
    """Logic-only stand-in for the engine: the vector's first value is the text's number."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    async def encode(self, texts, *, timeout_s=None) -> np.ndarray:
        self.calls.append(len(texts))
        return np.array([[float(t.rsplit(" ", 1)[-1]), 0.0] for t in texts], dtype="f4")


def _document(doc_id: str, first: int, count: int) -> DocumentChunked:
    chunks = [Chunk(index=i, text=f"chunk {first + i}", start=0, end=1) for i in range(count)]
    return DocumentChunked(
        tenant="acme",
        document_id=doc_id,
        operation=Operation.UPSERT,
        version=1,
        submitted_at=utc_now(),
        chunks=chunks,
    )


def test_large_batches_are_sliced_and_vectors_follow_their_chunks() -> None:
    encoder = _RecordingEncoder()
    events = [_document("a", 0, 400), _document("b", 400, 0), _document("c", 400, 200)]
    embedded = asyncio.run(_embed(encoder, events, "test-model"))
    assert encoder.calls == [_TEXTS_PER_CALL, _TEXTS_PER_CALL, 600 - 2 * _TEXTS_PER_CALL]
    assert [len(e.chunks) for e in embedded] == [400, 0, 200]
    assert [c.vector()[0] for c in embedded[2].chunks] == [float(n) for n in range(400, 600)]
    assert embedded[0].model == "test-model" and embedded[0].chunks[5].text == "chunk 5"
