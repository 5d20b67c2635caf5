"""gRPC Retrieval: validated hybrid search, then the optional second stage."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from contracts.events import TENANT_PATTERN, chunk_id
from contracts.rpc import common_pb2, retrieval_pb2, retrieval_pb2_grpc
from platform_grpc import FailedPrecondition, InvalidArgument, NotFound, validated
from platform_grpc.context import remaining
from platform_logging import get_logger
from retrieval_service.adapters.reranker import RerankerError
from retrieval_service.core import FacetRequest, Fusion, SearchQuery
from retrieval_service.core.filters import DEFAULT_FACET_LIMIT, MAX_TYPED_FILTERS, date_bound
from retrieval_service.core.rerank import (
    RerankPlan,
    RerankUnconfigured,
    rerank_order,
    reranker_passage,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import grpc

    from retrieval_service.adapters import ChunkIndex, QueryEmbedder
    from retrieval_service.adapters.index import PassageHit
    from retrieval_service.adapters.reranker import Reranker

_log = get_logger(__name__)

_MAX_CHUNK_ID_CHARS = 128
#: Hashes per LookupVectors call: the chunks of a few large documents.
MAX_LOOKUP_HASHES = 4096
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")

_FUSIONS = {
    retrieval_pb2.FUSION_METHOD_RRF: Fusion.RRF,
    retrieval_pb2.FUSION_METHOD_DENSE_ONLY: Fusion.DENSE_ONLY,
    retrieval_pb2.FUSION_METHOD_SPARSE_ONLY: Fusion.SPARSE_ONLY,
    retrieval_pb2.FUSION_METHOD_DBSF: Fusion.DBSF,
}
#: RerankMode -> asked on, off, or left to the server's default (None).
_RERANK_MODES: dict[int, bool | None] = {
    retrieval_pb2.RERANK_MODE_UNSPECIFIED: None,
    retrieval_pb2.RERANK_MODE_ON: True,
    retrieval_pb2.RERANK_MODE_OFF: False,
}
#: Time kept back from the reranker's budget to answer in fused order if it does not answer.
_FALLBACK_MARGIN_S = 0.1


@dataclass(frozen=True)
class FusionDefaults:
    """The configuration a request that names no fusion method gets: a method and a weight."""

    fusion: Fusion = Fusion.RRF
    dense_weight: float | None = None

    def resolve(self, request: retrieval_pb2.RetrieveRequest) -> tuple[Fusion, float | None]:
        """The request's method and weight, the default pair filled in; unknown methods refused.

        The default weight goes with the default method only: a request that names RRF or
        DBSF without a weight gets that method unweighted, as it asked.
        """
        weight = request.dense_weight if request.HasField("dense_weight") else None
        if request.fusion == retrieval_pb2.FUSION_METHOD_UNSPECIFIED:
            if weight is None and self.fusion.is_fused:
                weight = self.dense_weight
            return self.fusion, weight
        if request.fusion not in _FUSIONS:
            raise InvalidArgument.field("fusion", f"unknown method {request.fusion}")
        return _FUSIONS[request.fusion], weight


class RetrievalServicer(retrieval_pb2_grpc.RetrievalServicer):
    """Embeds the query, then searches the index under the caller's tenant and groups."""

    def __init__(
        self,
        *,
        index: ChunkIndex,
        embedder: QueryEmbedder,
        default_top_k: int,
        fusion_defaults: FusionDefaults | None = None,
        reranker: Reranker | None = None,
        rerank: RerankPlan | None = None,
    ) -> None:
        self._index = index
        self._embedder = embedder
        self._default_top_k = default_top_k
        self._fusion_defaults = fusion_defaults or FusionDefaults()
        self._reranker = reranker
        self._rerank = rerank or RerankPlan()
        if self._rerank.model and reranker is None:
            raise ValueError(f"reranker model {self._rerank.model!r} configured without a client")

    async def Retrieve(  # noqa: N802 - generated name
        self, request: retrieval_pb2.RetrieveRequest, context: grpc.aio.ServicerContext
    ) -> retrieval_pb2.RetrieveResponse:
        """Hybrid search, then the second stage when it is on."""
        fusion, dense_weight = self._fusion_defaults.resolve(request)
        second_stage = self._second_stage_wanted(request)
        query = validated(
            SearchQuery,
            {
                "tenant": request.principal.tenant,
                "groups": list(request.principal.groups),
                "text": request.query,
                "top_k": request.top_k or self._default_top_k,
                "filters": dict(request.filters),
                "typed_filters": typed_filters(request.typed_filters),
                "facets": self._facets(request),
                "fusion": fusion,
                "dense_weight": dense_weight,
            },
            request_fields={
                "tenant": "principal.tenant",
                "groups": "principal.groups",
                "text": "query",
            },
        )
        # BM25 alone needs no query vector: skip the round trip to the engine.
        dense = (
            []
            if query.fusion is Fusion.SPARSE_ONLY
            else await self._embedder.embed_query(query.text)
        )
        outcome = retrieval_pb2.RERANK_OUTCOME_UNSPECIFIED
        if second_stage:
            fetch = self._rerank.fetch(query.top_k)
            hits = await self._index.search(query.model_copy(update={"top_k": fetch}), dense)
            head, tail = hits[: self._rerank.candidates], hits[self._rerank.candidates :]
            head, outcome = await self._reranked(query.text, head)
            hits = (head + tail)[: query.top_k]
        else:
            hits = await self._index.search(query, dense)
        facets = await self._index.facets(query) if query.facets.fields else []
        return retrieval_pb2.RetrieveResponse(
            rerank=outcome,
            passages=[_passage(h) for h in hits],
            facets=[
                common_pb2.Facet(
                    field=f.field,
                    values=[common_pb2.FacetValue(value=v, count=n) for v, n in f.values],
                )
                for f in facets
            ],
        )

    def _second_stage_wanted(self, request: retrieval_pb2.RetrieveRequest) -> bool:
        """Whether this search runs the second stage; refused when asked for without a model."""
        if request.rerank not in _RERANK_MODES:
            raise InvalidArgument.field("rerank", f"unknown mode {request.rerank}")
        try:
            return self._rerank.wanted(_RERANK_MODES[request.rerank])
        except RerankUnconfigured as error:
            # A well-formed request this server cannot serve as configured: not the caller's
            # mistake to fix in the request (INVALID_ARGUMENT), but the deployment's.
            raise FailedPrecondition(f"rerank: {error}") from error

    async def _reranked(
        self, query: str, hits: list[PassageHit]
    ) -> tuple[list[PassageHit], retrieval_pb2.RerankOutcome.ValueType]:
        """Hits ordered by the reranker's scores, or in fused order when it gives none."""
        if not hits:
            return hits, retrieval_pb2.RERANK_OUTCOME_APPLIED
        assert self._reranker is not None  # __init__ refuses a model without a client
        budget = remaining(self._rerank.timeout_s + _FALLBACK_MARGIN_S) - _FALLBACK_MARGIN_S
        started = time.perf_counter()
        try:
            if budget <= 0:
                raise RerankerError("no time left before the request's deadline")
            # The adapter applies the budget itself (Triton's client timeout); wait_for is the
            # backstop that keeps the promise of an answer even if one does not.
            scores = await asyncio.wait_for(
                self._reranker.score(
                    query,
                    [reranker_passage(h.title, h.heading, h.text) for h in hits],
                    timeout_s=budget,
                ),
                timeout=budget + _FALLBACK_MARGIN_S / 2,
            )
            if len(scores) != len(hits):
                raise RerankerError(f"{len(scores)} scores for {len(hits)} passages")
        except (RerankerError, TimeoutError) as error:
            # The search still answers, in fused order; the response says so (FALLBACK).
            _log.warning(
                "rerank_fallback",
                model=self._reranker.name,
                candidates=len(hits),
                ms=round((time.perf_counter() - started) * 1000, 1),
                reason=str(error)[:500] or type(error).__name__,
            )
            return hits, retrieval_pb2.RERANK_OUTCOME_FALLBACK
        _log.debug(
            "reranked",
            model=self._reranker.name,
            candidates=len(hits),
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return [
            replace(hits[i], score=scores[i], fused_score=hits[i].score)
            for i in rerank_order(scores)
        ], retrieval_pb2.RERANK_OUTCOME_APPLIED

    def _facets(self, request: retrieval_pb2.RetrieveRequest) -> FacetRequest:
        facets = validated(
            FacetRequest,
            {
                "fields": list(dict.fromkeys(request.facet_fields)),
                "limit": request.facet_limit or DEFAULT_FACET_LIMIT,
            },
            request_fields={"fields": "facet_fields", "limit": "facet_limit"},
        )
        facetable = self._index.facetable
        for field in facets.fields:
            if field not in facetable:
                raise InvalidArgument.field(
                    "facet_fields",
                    f"{field!r} has no facet index here; facetable: {', '.join(facetable)}",
                )
        return facets

    async def GetChunk(  # noqa: N802 - generated name
        self, request: retrieval_pb2.GetChunkRequest, context: grpc.aio.ServicerContext
    ) -> retrieval_pb2.GetChunkResponse:
        """One chunk and its neighbours, under the caller's tenant and groups."""
        tenant, groups = request.principal.tenant, list(request.principal.groups)
        if not re.fullmatch(TENANT_PATTERN.strip("^$"), tenant):
            raise InvalidArgument.field("principal.tenant", f"must match {TENANT_PATTERN}")
        if not 0 < len(request.chunk_id) <= _MAX_CHUNK_ID_CHARS:
            raise InvalidArgument.field("chunk_id", f"1..{_MAX_CHUNK_ID_CHARS} characters")
        found = await self._index.chunks(tenant, groups, [request.chunk_id])
        if not found:
            # The same status for "never existed" and "not yours": no probing.
            raise NotFound(f"chunk {request.chunk_id!r} not found")
        hit = found[0]
        ids = [
            chunk_id(tenant, hit.document_id, hit.chunk_index + step)
            for step in (-1, 1)
            if hit.chunk_index + step >= 0
        ]
        around = {h.chunk_index: h for h in await self._index.chunks(tenant, groups, ids)}
        response = retrieval_pb2.GetChunkResponse(passage=_passage(hit))
        if (previous := around.get(hit.chunk_index - 1)) is not None:
            response.previous.CopyFrom(_passage(previous))
        if (following := around.get(hit.chunk_index + 1)) is not None:
            response.next.CopyFrom(_passage(following))
        return response

    async def LookupVectors(  # noqa: N802 - generated name
        self, request: retrieval_pb2.LookupVectorsRequest, context: grpc.aio.ServicerContext
    ) -> retrieval_pb2.LookupVectorsResponse:
        """Stored vectors of the tenant's unchanged chunks, by content hash."""
        if not re.fullmatch(TENANT_PATTERN.strip("^$"), request.tenant):
            raise InvalidArgument.field("tenant", f"must match {TENANT_PATTERN}")
        hashes = list(dict.fromkeys(request.content_hashes))
        if len(hashes) > MAX_LOOKUP_HASHES:
            raise InvalidArgument.field(
                "content_hashes", f"at most {MAX_LOOKUP_HASHES} per call, got {len(hashes)}"
            )
        if not all(_SHA256_HEX.fullmatch(h) for h in hashes):
            raise InvalidArgument.field("content_hashes", "each must be 64 lowercase hex digits")
        found = await self._index.stored_vectors(request.tenant, hashes)
        return retrieval_pb2.LookupVectorsResponse(
            vectors=[
                retrieval_pb2.StoredVector(
                    content_hash=h, vector=np.asarray(v, dtype="<f4").tobytes()
                )
                for h, v in found.items()
            ]
        )


def typed_filters(filters: Sequence[common_pb2.MetadataFilter]) -> list[dict[str, object]]:
    """The request's typed filters as SearchQuery takes them; shape errors name the filter."""
    if len(filters) > MAX_TYPED_FILTERS:
        raise InvalidArgument.field(
            "typed_filters", f"at most {MAX_TYPED_FILTERS}, got {len(filters)}"
        )
    converted: list[dict[str, object]] = []
    for i, typed in enumerate(filters):
        where = f"typed_filters[{i}]"
        kind = typed.WhichOneof("condition")
        item: dict[str, object] = {"field": typed.field, "condition": kind}
        if kind is None:
            raise InvalidArgument.field(where, "set one of equals, any_of, range, date_range")
        if kind == "equals":
            item["equals"] = typed.equals
        elif kind == "any_of":
            item["any_of"] = list(typed.any_of.values)
        elif kind == "range":
            item["gte"] = typed.range.gte if typed.range.HasField("gte") else None
            item["lte"] = typed.range.lte if typed.range.HasField("lte") else None
        else:
            try:
                item["after"] = date_bound(typed.date_range.gte, upper=False)
                item["before"] = date_bound(typed.date_range.lte, upper=True)
            except ValueError as error:
                raise InvalidArgument.field(f"{where}.date_range", str(error)) from error
        converted.append(item)
    return converted


def _passage(h: PassageHit) -> common_pb2.Passage:
    return common_pb2.Passage(
        fused_score=h.fused_score,
        chunk_id=h.chunk_id,
        document_id=h.document_id,
        title=h.title,
        source=h.source,
        text=h.text,
        chunk_index=h.chunk_index,
        score=h.score,
        document_version=h.version,
        metadata=h.metadata,
        heading=h.heading,
        page=h.page or 0,
        start=h.start,
        end=h.end,
    )
