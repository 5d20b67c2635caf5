"""Kafka subscribers: documents.submitted.v1 and documents.backfill.v1 -> documents.chunked.v1.

Both topics carry the same documents; a backfill document is admitted only while the
embedding stage has little queued (`BackfillGate`), so live documents never wait behind
a bulk load. Each topic has its own dead-letter twin, so whoever ran a backfill reads its
rejections apart from the live producers'.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from faststream.kafka import KafkaRouter

from contracts import DocumentSubmitted, topics
from ingestion_service.core import Chunker, NoContent, to_chunked_event
from ingestion_service.core.parsing import DocumentRejected
from platform_kafka import PoisonMessage, event_subscriber
from platform_logging import get_logger

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

    from ingestion_service.adapters.backlog import BackfillGate

_log = get_logger(__name__)


def build_router(
    *, broker: KafkaBroker, group_id: str, chunker: Chunker, backfill_gate: BackfillGate
) -> KafkaRouter:
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
        await _chunk_and_publish(broker, chunker, document)

    @event_subscriber(
        router,
        topics.DOCUMENTS_BACKFILL,
        model=DocumentSubmitted,
        broker=broker,
        group_id=group_id,
        dead_letter_topic=topics.DOCUMENTS_BACKFILL_DEAD_LETTER,
        # A backfill held back for live traffic is not a service out of order.
        affects_readiness=False,
    )
    async def on_document_backfilled(document: DocumentSubmitted) -> None:
        await backfill_gate.admit()
        await _chunk_and_publish(broker, chunker, document, backfill=True)

    return router


async def _chunk_and_publish(
    broker: KafkaBroker, chunker: Chunker, document: DocumentSubmitted, *, backfill: bool = False
) -> None:
    """Parse and chunk one document and hand it to embedding."""
    try:
        # Parsing a large body takes a while: off the event loop, so the consumer's
        # heartbeats and the gRPC server keep going meanwhile.
        event = await asyncio.to_thread(to_chunked_event, document, chunker)
    except NoContent as exc:
        raise PoisonMessage("no_content", str(exc)) from exc
    except DocumentRejected as exc:
        raise PoisonMessage(exc.error_type, str(exc), exception=exc) from exc
    await broker.publish(event, topics.DOCUMENTS_CHUNKED, key=event.key.encode())
    _log.info(
        "document_chunked",
        tenant=event.tenant,
        document_id=event.document_id,
        version=event.version,
        operation=event.operation.value,
        chunks=len(event.chunks),
        backfill=backfill,
    )
