"""Chunks of a batch of documents are embedded in bounded slices and land on their own chunks."""

from __future__ import annotations

import asyncio

import numpy as np

from contracts import Chunk, DocumentChunked, Operation
from contracts.events import utc_now
from embedding_service.adapters import NoStoredVectors
from embedding_service.core import content_hash
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
    embedded = asyncio.run(_embed(encoder, NoStoredVectors(), events, "test-model"))
    assert encoder.calls == [_TEXTS_PER_CALL, _TEXTS_PER_CALL, 600 - 2 * _TEXTS_PER_CALL]
    assert [len(e.chunks) for e in embedded] == [400, 0, 200]
    assert [c.vector()[0] for c in embedded[2].chunks] == [float(n) for n in range(400, 600)]
    assert embedded[0].model == "test-model" and embedded[0].chunks[5].text == "chunk 5"


class _DictStoredVectors:
    """Logic-only stand-in for the index's stored vectors, per tenant."""

    def __init__(self, vectors: dict[tuple[str, str], np.ndarray]) -> None:
        self.vectors = vectors
        self.asked: list[tuple[str, int]] = []

    async def lookup(self, tenant, content_hashes):
        self.asked.append((tenant, len(content_hashes)))
        return {h: self.vectors[(tenant, h)] for h in content_hashes if (tenant, h) in self.vectors}

    async def close(self) -> None:
        pass


def test_stored_vectors_of_unchanged_texts_are_reused_and_only_the_rest_is_embedded() -> None:
    encoder = _RecordingEncoder()
    event = _document("a", 0, 5)
    known = {
        ("acme", content_hash("m", f"chunk {n}")): np.array([100.0 + n, 0.0], dtype="f4")
        for n in (0, 1, 3)
    }
    # Another tenant's identical text never lends its vector.
    known[("other", content_hash("m", "chunk 2"))] = np.array([-1.0, 0.0], dtype="f4")
    stored = _DictStoredVectors(known)
    (embedded,) = asyncio.run(_embed(encoder, stored, [event], "m"))
    assert encoder.calls == [2]
    assert [c.vector()[0] for c in embedded.chunks] == [100.0, 101.0, 2.0, 103.0, 4.0]
    assert embedded.reused_chunks == 3
    assert all(c.content_hash == content_hash("m", c.text) for c in embedded.chunks)
    assert stored.asked == [("acme", 5)]


def test_a_fully_unchanged_batch_makes_no_engine_call() -> None:
    encoder = _RecordingEncoder()
    event = _document("a", 0, 3)
    stored = _DictStoredVectors(
        {("acme", content_hash("m", f"chunk {n}")): np.zeros(2, dtype="f4") for n in range(3)}
    )
    (embedded,) = asyncio.run(_embed(encoder, stored, [event], "m"))
    assert encoder.calls == [] and embedded.reused_chunks == 3
