"""DBSF and weighted fusion: the pure functions, request defaults, and every index adapter."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from pydantic import ValidationError
from qdrant_client import AsyncQdrantClient

from contracts import Chunk, DocumentEmbedded, EmbeddedChunk, Operation
from contracts.events import utc_now
from contracts.rpc import retrieval_pb2
from platform_grpc import InvalidArgument
from retrieval_service.adapters import EdgeChunkIndex, QdrantChunkIndex
from retrieval_service.core import (
    Bm25Encoder,
    Fusion,
    SearchQuery,
    distribution_based_score_fusion,
    reciprocal_rank_fusion,
    side_weights,
)
from retrieval_service.core.fusion import distribution_normalized
from retrieval_service.rpc import FusionDefaults

DIMS = 8
TEXTS = [
    "Hotel stays are capped at USD 325 per night in London.",
    "The daily meal allowance is USD 75.",
    "Laptops must use full-disk encryption.",
    "Robot arms are serviced every quarter.",
    "Encryption keys for laptops are escrowed by IT.",
    "Meal receipts are needed above USD 25.",
]


def _scored(*pairs: tuple[str, float]) -> list[tuple[str, float]]:
    return list(pairs)


def _fuse_dbsf(rankings, **options):
    fused = distribution_based_score_fusion(
        rankings, key=lambda p: p[0], score=lambda p: p[1], limit=10, **options
    )
    return [(item[0], score) for item, score in fused]


def test_distribution_normalization_maps_mean_plus_minus_three_sd_to_zero_and_one() -> None:
    scores = [3.0, 2.0, 1.0]  # mean 2, sample sd 1: [-1, 5] -> [0, 1]
    assert distribution_normalized(scores) == pytest.approx([4 / 6, 3 / 6, 2 / 6])
    assert distribution_normalized([7.0]) == [0.5]
    assert distribution_normalized([2.0, 2.0]) == [0.5, 0.5]
    assert distribution_normalized([]) == []


def test_dbsf_sums_normalized_scores_and_weights_move_the_balance() -> None:
    dense = _scored(("a", 0.9), ("b", 0.8), ("c", 0.1))
    lexical = _scored(("c", 30.0), ("b", 20.0), ("d", 1.0))
    equal = _fuse_dbsf([dense, lexical])
    assert equal[0][0] == "b"  # second on both sides beats one first place
    # 0.5 is the unweighted fusion, exactly.
    half = _fuse_dbsf([dense, lexical], weights=side_weights(0.5))
    assert [i for i, _ in half] == [i for i, _ in equal]
    assert [s for _, s in half] == pytest.approx([s for _, s in equal])
    assert [i for i, _ in _fuse_dbsf([dense, lexical], weights=side_weights(1.0))][:3] == [
        "a",
        "b",
        "c",
    ]
    assert [i for i, _ in _fuse_dbsf([dense, lexical], weights=side_weights(0.0))][:3] == [
        "c",
        "b",
        "d",
    ]
    with pytest.raises(ValueError, match="1 weights for 2 rankings"):
        _fuse_dbsf([dense, lexical], weights=[1.0])


def test_weighted_rrf_scales_each_side() -> None:
    fused = reciprocal_rank_fusion(
        [["a", "b"], ["b", "c"]], key=str, limit=3, weights=side_weights(0.75)
    )
    scores = dict((item, score) for item, score in fused)
    assert scores["a"] == pytest.approx(1.5 / 61)
    assert scores["b"] == pytest.approx(1.5 / 62 + 0.5 / 61)
    assert scores["c"] == pytest.approx(0.5 / 62)
    assert side_weights(None) is None


def test_a_dense_weight_needs_a_fused_method_and_lies_in_zero_one() -> None:
    assert SearchQuery(tenant="acme", text="x", fusion=Fusion.DBSF, dense_weight=0.3)
    with pytest.raises(ValidationError, match="applies to RRF and DBSF only"):
        SearchQuery(tenant="acme", text="x", fusion=Fusion.DENSE_ONLY, dense_weight=0.3)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValidationError):
            SearchQuery(tenant="acme", text="x", dense_weight=bad)


def test_requests_without_a_method_get_the_servers_default_method_and_weight() -> None:
    defaults = FusionDefaults(Fusion.DBSF, 0.6)
    request = retrieval_pb2.RetrieveRequest
    assert defaults.resolve(request()) == (Fusion.DBSF, pytest.approx(0.6))
    assert defaults.resolve(request(dense_weight=0.0)) == (Fusion.DBSF, 0.0)
    # A named method without a weight is that method unweighted, whatever the default.
    assert defaults.resolve(request(fusion=retrieval_pb2.FUSION_METHOD_RRF)) == (Fusion.RRF, None)
    assert defaults.resolve(
        request(fusion=retrieval_pb2.FUSION_METHOD_DBSF, dense_weight=0.25)
    ) == (Fusion.DBSF, 0.25)
    assert defaults.resolve(request(fusion=retrieval_pb2.FUSION_METHOD_DENSE_ONLY)) == (
        Fusion.DENSE_ONLY,
        None,
    )
    # A single-side default takes no weight.
    assert FusionDefaults(Fusion.DENSE_ONLY, 0.6).resolve(request()) == (Fusion.DENSE_ONLY, None)
    assert FusionDefaults().resolve(request()) == (Fusion.RRF, None)
    with pytest.raises(InvalidArgument):
        defaults.resolve(request(fusion=99))  # type: ignore[arg-type]


def _vectors(n: int, seed: int = 11) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, DIMS)).astype("f4")
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


VECTORS = _vectors(len(TEXTS))


def _event() -> DocumentEmbedded:
    chunks = [
        EmbeddedChunk.from_chunk(Chunk(index=i, text=t, start=0, end=len(t)), v)
        for i, (t, v) in enumerate(zip(TEXTS, VECTORS, strict=True))
    ]
    return DocumentEmbedded(
        tenant="acme",
        document_id="d",
        operation=Operation.UPSERT,
        version=1,
        submitted_at=utc_now(),
        chunks=chunks,
    )


def _query(**fields: object) -> SearchQuery:
    return SearchQuery(**{"tenant": "acme", "text": "laptop encryption", "top_k": 6, **fields})


async def _check_adapter(index) -> None:
    """The engine's DBSF and ours at 0.5 agree; weights 1 and 0 keep one side's order."""
    await index.ensure_ready()
    await index.apply(_event())
    dense = VECTORS[0].tolist()
    engine = await index.search(_query(fusion=Fusion.DBSF), dense)
    ours = await index.search(_query(fusion=Fusion.DBSF, dense_weight=0.5), dense)
    assert [h.chunk_id for h in engine] == [h.chunk_id for h in ours]
    assert [h.score for h in engine] == pytest.approx([h.score for h in ours], rel=1e-4)
    dense_order = [
        h.chunk_index for h in await index.search(_query(fusion=Fusion.DENSE_ONLY), dense)
    ]
    for fusion in (Fusion.DBSF, Fusion.RRF):
        all_dense = await index.search(_query(fusion=fusion, dense_weight=1.0), dense)
        assert [h.chunk_index for h in all_dense][:3] == dense_order[:3]
        lexical = await index.search(_query(fusion=fusion, dense_weight=0.0), dense)
        assert {h.chunk_index for h in lexical[:2]} == {2, 4}  # the two that say both words
    await index.close()


def test_the_embedded_index_fuses_by_dbsf_and_by_weights(tmp_path) -> None:
    index = EdgeChunkIndex(tmp_path / "shard", dimensions=DIMS, lexical=Bm25Encoder())
    asyncio.run(_check_adapter(index))


def test_the_server_client_fuses_by_dbsf_and_by_weights(tmp_path) -> None:
    # qdrant-client's local mode runs the server's fusion rules in Python.
    index = QdrantChunkIndex(
        AsyncQdrantClient(path=str(tmp_path)),
        collection="c",
        dimensions=DIMS,
        lexical=Bm25Encoder(),
        payload_indexes=False,
    )
    asyncio.run(_check_adapter(index))
