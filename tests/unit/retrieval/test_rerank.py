"""The second stage: when it runs, the order it gives, its fallback and its refusal.

The servicer runs on a real Qdrant Edge shard in tmp_path with an in-process reranker
(FunctionReranker); the Triton reranker itself is tested in tests/integration/test_reranker.py.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
import pytest

from contracts import Chunk, DocumentEmbedded, EmbeddedChunk, Operation
from contracts.events import utc_now
from contracts.rpc import common_pb2, retrieval_pb2
from platform_grpc import FailedPrecondition, InvalidArgument
from retrieval_service.adapters import EdgeChunkIndex, FunctionReranker
from retrieval_service.core import Bm25Encoder
from retrieval_service.core.rerank import (
    RerankPlan,
    RerankUnconfigured,
    rerank_order,
    reranker_passage,
)
from retrieval_service.rpc import RetrievalServicer

DIMS = 8
# Twelve chunks that all share the query's words, so every one is a fused candidate.
TEXTS = [f"Travel policy rule number {i}: hotel limits and meal allowances." for i in range(12)]


class _FixedEmbedder:
    """The query vector is chunk 0's: fused order starts with chunk 0."""

    def __init__(self, vector: list[float]) -> None:
        self._vector = vector

    async def embed_query(self, text: str) -> list[float]:
        return self._vector

    async def is_ready(self) -> bool:
        return True


def _vectors(n: int) -> np.ndarray:
    vectors = np.random.default_rng(3).normal(size=(n, DIMS)).astype("f4")
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


VECTORS = _vectors(len(TEXTS))


def _event() -> DocumentEmbedded:
    chunks = [
        EmbeddedChunk.from_chunk(
            Chunk(index=i, text=t, start=0, end=len(t), heading=f"Rule {i}"),
            v,
            content_hash=f"{i:064x}",
        )
        for i, (t, v) in enumerate(zip(TEXTS, VECTORS, strict=True))
    ]
    return DocumentEmbedded(
        tenant="acme",
        document_id="policy",
        operation=Operation.UPSERT,
        version=1,
        submitted_at=utc_now(),
        title="Policy",
        chunks=chunks,
    )


def _rule_number(passage: str) -> int:
    return int(passage.split("rule number ")[1].split(":")[0])


def _servicer(
    path: Path, *, reranker: FunctionReranker | None, plan: RerankPlan
) -> tuple[RetrievalServicer, EdgeChunkIndex]:
    index = EdgeChunkIndex(path, dimensions=DIMS, lexical=Bm25Encoder())
    servicer = RetrievalServicer(
        index=index,
        embedder=_FixedEmbedder(VECTORS[0].tolist()),
        default_top_k=5,
        reranker=reranker,
        rerank=plan,
    )
    return servicer, index


def _request(**fields: object) -> retrieval_pb2.RetrieveRequest:
    return retrieval_pb2.RetrieveRequest(
        principal=common_pb2.Principal(tenant="acme"),
        query="travel policy hotel limits",
        **{"fusion": retrieval_pb2.FUSION_METHOD_RRF, **fields},
    )


def test_the_plan_follows_the_request_then_the_default_and_refuses_without_a_model() -> None:
    off, on = RerankPlan(model="m"), RerankPlan(model="m", default=True)
    assert (off.wanted(None), off.wanted(True), off.wanted(False)) == (False, True, False)
    assert (on.wanted(None), on.wanted(False)) == (True, False)
    assert RerankPlan().wanted(None) is False and RerankPlan().wanted(False) is False
    with pytest.raises(RerankUnconfigured, match="RETRIEVAL_RERANK_MODEL"):
        RerankPlan().wanted(True)
    assert RerankPlan(candidates=50).fetch(10) == 50 and RerankPlan(candidates=50).fetch(80) == 80


def test_order_is_by_descending_score_with_ties_and_nan_kept_in_fused_order() -> None:
    assert rerank_order([0.1, 3.0, -2.0, 3.0]) == [1, 3, 0, 2]
    assert rerank_order([math.nan, 1.0, math.nan, -1.0]) == [1, 3, 0, 2]
    assert rerank_order([]) == []


def test_the_reranker_reads_title_and_heading_before_the_text() -> None:
    assert reranker_passage("Policy", "Hotels", "Cap is 250.") == "Policy > Hotels\nCap is 250."
    assert reranker_passage("", "", "Cap is 250.") == "Cap is 250."


def test_candidates_are_reordered_by_the_reranker_and_keep_their_fused_scores(tmp_path) -> None:
    # The reranker prefers high rule numbers: the opposite of nothing in the fused order.
    reranker = FunctionReranker(lambda q, p: float(_rule_number(p)))
    servicer, index = _servicer(
        tmp_path / "shard", reranker=reranker, plan=RerankPlan(model="m", candidates=10)
    )

    async def scenario() -> None:
        await index.ensure_ready()
        await index.apply(_event())
        fused = await servicer.Retrieve(
            _request(top_k=10, rerank=retrieval_pb2.RERANK_MODE_OFF), None
        )
        reranked = await servicer.Retrieve(
            _request(top_k=3, rerank=retrieval_pb2.RERANK_MODE_ON), None
        )
        assert fused.rerank == retrieval_pb2.RERANK_OUTCOME_UNSPECIFIED
        assert not any(p.HasField("fused_score") for p in fused.passages)
        assert reranked.rerank == retrieval_pb2.RERANK_OUTCOME_APPLIED
        # The ten fused candidates (not only top_k) went to the reranker, as one call.
        (query, passages), *more = reranker.calls
        assert not more and query == "travel policy hotel limits" and len(passages) == 10
        assert passages[0].startswith("Policy > Rule ")
        candidates = sorted((p.chunk_index for p in fused.passages), reverse=True)
        assert [p.chunk_index for p in reranked.passages] == candidates[:3]
        assert [p.score for p in reranked.passages] == [float(i) for i in candidates[:3]]
        by_chunk = {p.chunk_id: p.score for p in fused.passages}
        for passage in reranked.passages:
            assert passage.fused_score == pytest.approx(by_chunk[passage.chunk_id])
        # Unspecified is the server's default: off here.
        plain = await servicer.Retrieve(_request(top_k=3), None)
        assert plain.rerank == retrieval_pb2.RERANK_OUTCOME_UNSPECIFIED
        assert [p.chunk_id for p in plain.passages] == [p.chunk_id for p in fused.passages[:3]]
        assert len(reranker.calls) == 1
        await index.close()

    asyncio.run(scenario())


def test_every_top_k_is_the_head_of_one_fused_order_for_every_fusion(tmp_path) -> None:
    # All twelve chunks tie on BM25 (ranks the engine's own) and many fused scores tie
    # exactly: the order a search keeps must still not depend on its top_k or on the call,
    # or the second stage re-scores other candidates than the fused list a user sees.
    servicer, index = _servicer(tmp_path / "shard", reranker=None, plan=RerankPlan())

    async def scenario() -> None:
        await index.ensure_ready()
        await index.apply(_event())
        # RRF and DBSF fused by the engine; weighted DBSF (the server's default) fused here.
        for fusion in (
            {"fusion": retrieval_pb2.FUSION_METHOD_RRF},
            {"fusion": retrieval_pb2.FUSION_METHOD_DBSF},
            {"fusion": retrieval_pb2.FUSION_METHOD_DBSF, "dense_weight": 0.6},
        ):
            full = await servicer.Retrieve(_request(top_k=12, **fusion), None)
            order = [(p.chunk_id, p.score) for p in full.passages]
            assert len(order) == 12
            for top_k in (1, 2, 3, 5, 8, 10, 11, 12, 10, 3):
                head = await servicer.Retrieve(_request(top_k=top_k, **fusion), None)
                assert [(p.chunk_id, p.score) for p in head.passages] == order[:top_k], fusion
        await index.close()

    asyncio.run(scenario())


def test_a_failing_reranker_leaves_the_fused_order_and_says_so(tmp_path) -> None:
    def broken(query: str, passage: str) -> float:
        raise ConnectionError("triton is down")

    servicer, index = _servicer(
        tmp_path / "shard",
        reranker=FunctionReranker(broken),
        plan=RerankPlan(model="m", default=True),
    )

    async def scenario() -> None:
        await index.ensure_ready()
        await index.apply(_event())
        fused = await servicer.Retrieve(
            _request(top_k=4, rerank=retrieval_pb2.RERANK_MODE_OFF), None
        )
        fallback = await servicer.Retrieve(_request(top_k=4), None)  # on by default
        assert fallback.rerank == retrieval_pb2.RERANK_OUTCOME_FALLBACK
        assert [(p.chunk_id, p.score) for p in fallback.passages] == [
            (p.chunk_id, p.score) for p in fused.passages
        ]
        assert not any(p.HasField("fused_score") for p in fallback.passages)
        await index.close()

    asyncio.run(scenario())


def test_asking_for_the_second_stage_without_a_model_is_a_failed_precondition(tmp_path) -> None:
    servicer, index = _servicer(tmp_path / "shard", reranker=None, plan=RerankPlan())

    async def scenario() -> None:
        await index.ensure_ready()
        with pytest.raises(FailedPrecondition, match="no reranker model"):
            await servicer.Retrieve(_request(rerank=retrieval_pb2.RERANK_MODE_ON), None)
        with pytest.raises(InvalidArgument, match="rerank"):
            await servicer.Retrieve(_request(rerank=7), None)  # type: ignore[arg-type]
        off = await servicer.Retrieve(_request(rerank=retrieval_pb2.RERANK_MODE_OFF), None)
        assert off.rerank == retrieval_pb2.RERANK_OUTCOME_UNSPECIFIED
        await index.close()

    asyncio.run(scenario())
    with pytest.raises(ValueError, match="without a client"):
        _servicer(tmp_path / "other", reranker=None, plan=RerankPlan(model="m"))


def test_passages_past_the_candidates_follow_in_fused_order(tmp_path) -> None:
    reranker = FunctionReranker(lambda q, p: float(_rule_number(p)))
    servicer, index = _servicer(
        tmp_path / "shard", reranker=reranker, plan=RerankPlan(model="m", candidates=4)
    )

    async def scenario() -> None:
        await index.ensure_ready()
        await index.apply(_event())
        fused = await servicer.Retrieve(
            _request(top_k=8, rerank=retrieval_pb2.RERANK_MODE_OFF), None
        )
        mixed = await servicer.Retrieve(
            _request(top_k=8, rerank=retrieval_pb2.RERANK_MODE_ON), None
        )
        assert [len(passages) for _, passages in reranker.calls] == [4]
        head = sorted((p.chunk_index for p in fused.passages[:4]), reverse=True)
        assert [p.chunk_index for p in mixed.passages[:4]] == head
        assert all(p.HasField("fused_score") for p in mixed.passages[:4])
        assert [(p.chunk_id, p.score) for p in mixed.passages[4:]] == [
            (p.chunk_id, p.score) for p in fused.passages[4:]
        ]
        assert not any(p.HasField("fused_score") for p in mixed.passages[4:])
        await index.close()

    asyncio.run(scenario())


class _SlowReranker:
    """A reranker that ignores its time limit: the servicer's backstop must not wait for it."""

    name = "slow"

    async def score(self, query: str, passages, *, timeout_s: float) -> list[float]:
        await asyncio.sleep(30)
        return [0.0] * len(passages)

    async def close(self) -> None:
        return None


class _ShortReranker(_SlowReranker):
    name = "short"

    async def score(self, query: str, passages, *, timeout_s: float) -> list[float]:
        return [1.0]


@pytest.mark.parametrize("reranker", [_SlowReranker(), _ShortReranker()])
def test_a_reranker_past_its_time_or_short_of_scores_falls_back(tmp_path, reranker) -> None:
    import time

    servicer, index = _servicer(
        tmp_path / "shard", reranker=reranker, plan=RerankPlan(model="m", timeout_s=0.3)
    )

    async def scenario() -> None:
        await index.ensure_ready()
        await index.apply(_event())
        started = time.monotonic()
        response = await servicer.Retrieve(
            _request(top_k=3, rerank=retrieval_pb2.RERANK_MODE_ON), None
        )
        assert time.monotonic() - started < 5
        assert response.rerank == retrieval_pb2.RERANK_OUTCOME_FALLBACK
        assert len(response.passages) == 3
        await index.close()

    asyncio.run(scenario())
