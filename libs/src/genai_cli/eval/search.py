"""Every query through the public API (Assistant.Search), timed, for one configuration."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
from tqdm import tqdm

from contracts.rpc import assistant_pb2, assistant_pb2_grpc, common_pb2, retrieval_pb2
from genai_cli.errors import CliError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from genai_cli.eval.configs import Config

__all__ = ("TOP_K", "Answer", "run_queries", "scored_passages")

#: Passages asked per query: the API's maximum, so recall@100 is measured on documents that
#: the platform could have returned.
TOP_K = 100
_DEADLINE_S = 60.0


@dataclass(frozen=True)
class Answer:
    """One query's passages as (document id, score), in the order returned, and its latency."""

    query_id: str
    passages: list[tuple[str, float]]
    latency_ms: float
    #: The second stage was on but did not answer: these passages are in fused order.
    rerank_fallback: bool = False


def scored_passages(response: assistant_pb2.SearchResponse) -> list[tuple[str, float]]:
    """(document id, score) per passage, scores falling with the order returned.

    A re-scored response carries the reranker's scores on its first passages and fused scores
    on any after them (two scales), so its passages are scored by rank instead: max pooling
    then keeps the order the platform returned, as it does for a fused response.
    """
    if response.rerank == retrieval_pb2.RERANK_OUTCOME_APPLIED:
        count = len(response.passages)
        return [(p.document_id, float(count - i)) for i, p in enumerate(response.passages)]
    return [(p.document_id, p.score) for p in response.passages]


def run_queries(
    address: str, config: Config, queries: Sequence[tuple[str, str]], *, tenant: str
) -> list[Answer]:
    """Ask (query id, text) pairs one at a time; one untimed warm-up call first."""
    answers: list[Answer] = []
    with grpc.insecure_channel(address) as channel:
        stub = assistant_pb2_grpc.AssistantStub(channel)
        _search(stub, config, queries[0][1], tenant)  # warm-up: connection, caches
        for query_id, text in tqdm(
            queries, desc=config.name, unit="query", file=sys.stderr, disable=None
        ):
            started = time.perf_counter()
            response = _search(stub, config, text, tenant)
            latency_ms = (time.perf_counter() - started) * 1000
            fallback = response.rerank == retrieval_pb2.RERANK_OUTCOME_FALLBACK
            answers.append(Answer(query_id, scored_passages(response), latency_ms, fallback))
    return answers


def _search(
    stub: assistant_pb2_grpc.AssistantStub, config: Config, text: str, tenant: str
) -> assistant_pb2.SearchResponse:
    request = assistant_pb2.SearchRequest(
        principal=common_pb2.Principal(tenant=tenant),
        query=text,
        top_k=TOP_K,
        fusion=config.fusion,  # type: ignore[arg-type] - a FusionMethod value
        dense_weight=config.dense_weight,
        rerank=config.rerank,
    )
    try:
        return stub.Search(request, timeout=_DEADLINE_S)
    except grpc.RpcError as error:
        raise CliError(
            f"Search ({config.name}) failed: {error.code().name}: {error.details()}"
        ) from error
