"""Kafka subscribers: documents.submitted.v1 -> documents.chunked.v1."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from faststream.kafka import KafkaRouter

from contracts import DocumentSubmitted, topics
from ingestion_service.core import Chunker, NoContent, to_chunked_event
from platform_kafka import PoisonMessage, event_subscriber
from platform_logging import get_logger

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

_log = get_logger(__name__)


def build_router(*, broker: KafkaBroker, group_id: str, chunker: Chunker) -> KafkaRouter:
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
        try:
            # Parsing a large body takes a while: off the event loop, so the consumer's
            # heartbeats and the gRPC server keep going meanwhile.
            event = await asyncio.to_thread(to_chunked_event, document, chunker)
        except NoContent as exc:
            raise PoisonMessage("no_content", str(exc)) from exc
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
