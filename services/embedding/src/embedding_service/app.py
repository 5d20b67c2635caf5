"""Wiring of the embedding service: Triton client, broker, subscribers, servicer."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from contracts import topics
from contracts.rpc import embedding_pb2, embedding_pb2_grpc
from embedding_service import SERVICE_NAME
from embedding_service.adapters import NoStoredVectors, RetrievalStoredVectors, TritonEncoder
from embedding_service.handlers import build_router
from embedding_service.rpc import EmbeddingServicer
from platform_grpc import ServiceRegistration
from platform_kafka import build_broker
from platform_service import ServiceParts
from platform_triton import TritonEmbeddingClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from embedding_service.settings import Settings


@contextlib.asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[ServiceParts]:
    """Build what the service needs; the runner starts and stops it."""
    encoder = TritonEncoder(
        TritonEmbeddingClient(
            url=settings.triton_url,
            model=settings.triton_model,
            timeout_s=settings.triton_timeout_s,
            max_batch=settings.max_batch,
        )
    )
    stored = (
        RetrievalStoredVectors(settings.retrieval_addr, timeout_s=settings.lookup_timeout_s)
        if settings.retrieval_addr
        else NoStoredVectors()
    )
    broker = build_broker(settings.kafka, client_id=SERVICE_NAME)
    broker.include_router(
        build_router(
            broker=broker,
            encoder=encoder,
            stored=stored,
            group_id=settings.consumer_group,
            model_label=settings.model_label,
            max_documents=settings.batch_max_documents,
            batch_wait_ms=settings.batch_wait_ms,
        )
    )
    servicer = EmbeddingServicer(
        encoder=encoder,
        model_label=settings.model_label,
        max_texts=settings.max_texts_per_call,
        max_text_chars=settings.max_text_chars,
    )
    try:
        yield ServiceParts(
            services=[
                ServiceRegistration(
                    name=embedding_pb2.DESCRIPTOR.services_by_name["Embedding"].full_name,
                    add_to_server=embedding_pb2_grpc.add_EmbeddingServicer_to_server,
                    servicer=servicer,
                )
            ],
            probes={"triton": encoder.is_ready},
            broker=broker,
            kafka=settings.kafka,
            topics=(
                topics.DOCUMENTS_CHUNKED,
                topics.DOCUMENTS_CHUNKED_DEAD_LETTER,
                topics.DOCUMENTS_EMBEDDED,
            ),
        )
    finally:
        await stored.close()
        await encoder.close()
