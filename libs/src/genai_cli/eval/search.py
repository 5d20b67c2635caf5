"""Every query through the public API (Assistant.Search), timed, for one configuration."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
from tqdm import tqdm

from contracts.rpc import assistant_pb2, assistant_pb2_grpc, common_pb2
from genai_cli.errors import CliError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from genai_cli.eval.configs import Config

__all__ = ("TOP_K", "Answer", "run_queries")

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
            answers.append(
                Answer(query_id, [(p.document_id, p.score) for p in response.passages], latency_ms)
            )
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
