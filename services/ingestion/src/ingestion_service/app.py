"""Wiring of the ingestion service: broker, subscribers, servicer, probes."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from contracts import topics
from contracts.rpc import ingestion_pb2, ingestion_pb2_grpc
from ingestion_service import SERVICE_NAME
from ingestion_service.adapters import ModelTokenizer, packaged_tokenizer_path, sentence_spans
from ingestion_service.adapters.backlog import BackfillGate
from ingestion_service.core import Chunker, ChunkingPolicy
from ingestion_service.handlers import build_router
from ingestion_service.rpc import IngestionServicer
from platform_grpc import ServiceRegistration
from platform_kafka import GroupLag, build_broker
from platform_service import ServiceParts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ingestion_service.settings import Settings


@contextlib.asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[ServiceParts]:
    """Build what the service needs; the runner starts and stops it."""
    broker = build_broker(settings.kafka, client_id=SERVICE_NAME)
    chunker = Chunker(
        policy=ChunkingPolicy(
            target_tokens=settings.chunk_target_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
            window_tokens=settings.chunk_window_tokens,
        ),
        tokens=ModelTokenizer(settings.tokenizer_path or packaged_tokenizer_path()),
        sentences=sentence_spans,
    )
    downstream = GroupLag(
        settings.kafka, group_id=settings.downstream_group, topic=topics.DOCUMENTS_CHUNKED
    )
    gate = BackfillGate(
        downstream, max_backlog=settings.backfill_max_backlog, wait_s=settings.backfill_wait_s
    )
    broker.include_router(
        build_router(
            broker=broker, group_id=settings.consumer_group, chunker=chunker, backfill_gate=gate
        )
    )
    try:
        yield ServiceParts(
            services=[
                ServiceRegistration(
                    name=ingestion_pb2.DESCRIPTOR.services_by_name["Ingestion"].full_name,
                    add_to_server=ingestion_pb2_grpc.add_IngestionServicer_to_server,
                    servicer=IngestionServicer(broker=broker, chunker=chunker),
                )
            ],
            broker=broker,
            kafka=settings.kafka,
            topics=(
                topics.DOCUMENTS_SUBMITTED,
                topics.DOCUMENTS_SUBMITTED_DEAD_LETTER,
                topics.DOCUMENTS_BACKFILL,
                topics.DOCUMENTS_BACKFILL_DEAD_LETTER,
                topics.DOCUMENTS_CHUNKED,
            ),
        )
    finally:
        await downstream.stop()
