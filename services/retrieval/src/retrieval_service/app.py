"""Wiring of the retrieval service: the index, the embedder, subscribers, servicer."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from opensearchpy import AsyncOpenSearch
from qdrant_client import AsyncQdrantClient

from contracts import topics
from contracts.rpc import catalog_pb2, catalog_pb2_grpc, retrieval_pb2, retrieval_pb2_grpc
from platform_grpc import ServiceRegistration, create_channel
from platform_kafka import build_broker
from platform_service import ServiceParts
from retrieval_service import SERVICE_NAME
from retrieval_service.adapters import (
    ChunkIndex,
    EdgeChunkIndex,
    GrpcQueryEmbedder,
    OpenSearchLexicalIndex,
    QdrantChunkIndex,
    SplitChunkIndex,
    TritonReranker,
)
from retrieval_service.catalog import DocumentCatalogServicer
from retrieval_service.core import Bm25Encoder
from retrieval_service.core.rerank import RerankPlan
from retrieval_service.handlers import build_router
from retrieval_service.rpc import FusionDefaults, RetrievalServicer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from retrieval_service.settings import Settings


@contextlib.asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[ServiceParts]:
    """Build what the service needs; the runner starts and stops it."""
    index = _build_index(settings)
    await index.ensure_ready()
    # Embed is a pure function of its input: safe to retry.
    channel = create_channel(settings.embedding_addr, idempotent=True)
    embedder = GrpcQueryEmbedder(channel)
    # The second stage is optional at every level: without a model none is built, and a
    # reranker that is down costs its searches the second stage (fused order), never readiness.
    reranker = (
        TritonReranker(url=str(settings.triton_url), model=settings.rerank_model)
        if settings.rerank_model
        else None
    )
    broker = build_broker(settings.kafka, client_id=SERVICE_NAME)
    broker.include_router(
        build_router(broker=broker, index=index, group_id=settings.consumer_group)
    )
    try:
        yield ServiceParts(
            services=[
                ServiceRegistration(
                    name=retrieval_pb2.DESCRIPTOR.services_by_name["Retrieval"].full_name,
                    add_to_server=retrieval_pb2_grpc.add_RetrievalServicer_to_server,
                    servicer=RetrievalServicer(
                        index=index,
                        embedder=embedder,
                        default_top_k=settings.default_top_k,
                        fusion_defaults=FusionDefaults(
                            settings.default_fusion, settings.default_dense_weight
                        ),
                        reranker=reranker,
                        rerank=RerankPlan(
                            model=settings.rerank_model,
                            default=settings.rerank_default,
                            candidates=settings.rerank_candidates,
                            timeout_s=settings.rerank_timeout_s,
                        ),
                    ),
                ),
                ServiceRegistration(
                    name=catalog_pb2.DESCRIPTOR.services_by_name["DocumentCatalog"].full_name,
                    add_to_server=catalog_pb2_grpc.add_DocumentCatalogServicer_to_server,
                    servicer=DocumentCatalogServicer(index=index),  # type: ignore[arg-type]
                ),
            ],
            probes={
                "index": index.is_ready,
                "embedding": embedder.is_ready,
            },
            broker=broker,
            kafka=settings.kafka,
            topics=(
                topics.DOCUMENTS_EMBEDDED,
                topics.DOCUMENTS_EMBEDDED_DEAD_LETTER,
                topics.DOCUMENTS_INDEXED,
            ),
        )
    finally:
        if reranker is not None:
            await reranker.close()
        await channel.close()
        await index.close()


def _build_index(settings: Settings) -> ChunkIndex:
    """The vector side on a Qdrant server (URL) or embedded (Qdrant Edge, on disk).

    With the lexical side in the same points (default) or in OpenSearch.
    """
    lexical_encoder = Bm25Encoder(avg_len=settings.bm25_avg_len)
    qdrant: ChunkIndex
    if settings.qdrant_url:
        qdrant = QdrantChunkIndex(
            AsyncQdrantClient(url=settings.qdrant_url),
            collection=settings.collection,
            dimensions=settings.dimensions,
            lexical=lexical_encoder,
            facet_metadata_keys=settings.facet_metadata_keys,
        )
    else:
        # The validator guarantees a path when there is no URL.
        qdrant = EdgeChunkIndex(
            Path(str(settings.qdrant_path)) / "edge" / settings.collection,
            dimensions=settings.dimensions,
            lexical=lexical_encoder,
            optimize_on_start=settings.edge_optimize_on_start,
            facet_metadata_keys=settings.facet_metadata_keys,
        )
    if settings.lexical_backend == "qdrant":
        return qdrant
    lexical = OpenSearchLexicalIndex(
        AsyncOpenSearch(hosts=[settings.opensearch_url], timeout=10),
        index=settings.opensearch_index,
    )
    return SplitChunkIndex(qdrant, lexical)
