"""gRPC Retrieval: validated hybrid search."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.rpc import common_pb2, retrieval_pb2, retrieval_pb2_grpc
from platform_grpc import validated
from retrieval_service.core import Fusion, SearchQuery

if TYPE_CHECKING:
    import grpc

    from retrieval_service.adapters import ChunkIndex, QueryEmbedder

_FUSIONS = {
    retrieval_pb2.FUSION_METHOD_UNSPECIFIED: Fusion.RRF,
    retrieval_pb2.FUSION_METHOD_RRF: Fusion.RRF,
    retrieval_pb2.FUSION_METHOD_DENSE_ONLY: Fusion.DENSE_ONLY,
    retrieval_pb2.FUSION_METHOD_SPARSE_ONLY: Fusion.SPARSE_ONLY,
}


class RetrievalServicer(retrieval_pb2_grpc.RetrievalServicer):
    """Embeds the query, then searches the index under the caller's tenant and groups."""

    def __init__(self, *, index: ChunkIndex, embedder: QueryEmbedder, default_top_k: int) -> None:
        self._index = index
        self._embedder = embedder
        self._default_top_k = default_top_k

    async def Retrieve(  # noqa: N802 - generated name
        self, request: retrieval_pb2.RetrieveRequest, context: grpc.aio.ServicerContext
    ) -> retrieval_pb2.RetrieveResponse:
        """Hybrid search."""
        query = validated(
            SearchQuery,
            {
                "tenant": request.principal.tenant,
                "groups": list(request.principal.groups),
                "text": request.query,
                "top_k": request.top_k or self._default_top_k,
                "filters": dict(request.filters),
                "fusion": _FUSIONS.get(request.fusion, Fusion.RRF),
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
        hits = await self._index.search(query, dense)
        return retrieval_pb2.RetrieveResponse(
            passages=[
                common_pb2.Passage(
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
                )
                for h in hits
            ]
        )
