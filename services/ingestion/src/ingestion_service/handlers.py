"""Kafka subscribers: documents.submitted.v1 -> documents.chunked.v1."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faststream.kafka import KafkaRouter

from contracts import DocumentSubmitted, topics
from ingestion_service.core import ChunkingPolicy, to_chunked_event
from platform_kafka import event_subscriber
from platform_logging import get_logger

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

_log = get_logger(__name__)


def build_router(*, broker: KafkaBroker, group_id: str, policy: ChunkingPolicy) -> KafkaRouter:
    """Subscribers of the ingestion service, closed over their dependencies."""
    router = KafkaRouter()

    @event_subscriber(
        router,
        topics.DOCUMENTS_SUBMITTED,
        model=DocumentSubmitted,
        broker=broker,
        group_id=group_id,
        dead_letter_topic=topics.DOCUMENTS_SUBMITTED_DEAD_LETTER,
    )
    async def on_document_submitted(document: DocumentSubmitted) -> None:
        event = to_chunked_event(document, policy)
        await broker.publish(event, topics.DOCUMENTS_CHUNKED, key=event.key.encode())
        _log.info(
            "document_chunked",
            tenant=event.tenant,
            document_id=event.document_id,
            version=event.version,
            operation=event.operation.value,
            chunks=len(event.chunks),
        )

    return router
