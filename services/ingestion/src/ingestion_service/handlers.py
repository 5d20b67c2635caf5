"""Kafka subscribers: documents.submitted.v1 -> documents.chunked.v1."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts import DocumentSubmitted, topics
from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter
from platform_kafka import PoisonMessage, decode_event, send_to_dead_letter
from platform_logging import get_logger

from ingestion_service.core import ChunkingPolicy, to_chunked_event

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

_log = get_logger(__name__)


def build_router(*, broker: KafkaBroker, group_id: str, policy: ChunkingPolicy) -> KafkaRouter:
    """Subscribers of the ingestion service, closed over their dependencies."""
    router = KafkaRouter()

    # NACK_ON_ERROR: an unexpected failure rewinds to this message instead of
    # committing past it; poison messages never raise, they are dead-lettered.
    @router.subscriber(
        topics.DOCUMENTS_SUBMITTED,
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
    )
    async def on_document_submitted(message: KafkaMessage) -> None:
        try:
            document = decode_event(message.body, DocumentSubmitted)
        except PoisonMessage as error:
            await send_to_dead_letter(
                broker, message, topic=topics.DOCUMENTS_SUBMITTED_DEAD_LETTER, error=error
            )
            return
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
