"""Kafka subscribers: a changed document retires its tenant's older cached answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts import DocumentIndexed, IndexStatus, topics
from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter
from platform_kafka import PoisonMessage, decode_event
from platform_logging import get_logger

if TYPE_CHECKING:
    from generation_service.adapters import AnswerCache

_log = get_logger(__name__)


def build_router(*, cache: AnswerCache, group_id: str) -> KafkaRouter:
    """Subscribers of the generation service, closed over their dependencies."""
    router = KafkaRouter()

    @router.subscriber(
        topics.DOCUMENTS_INDEXED,
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="latest",
    )
    async def on_document_indexed(message: KafkaMessage) -> None:
        try:
            event = decode_event(message.body, DocumentIndexed)
        except PoisonMessage as error:
            # Our own topic; a bad message here is a bug upstream, not worth blocking on.
            _log.error("indexed_event_unreadable", reason=error.reason)
            return
        if event.status is IndexStatus.STALE_IGNORED:
            return
        # Idempotent: the change time only ever moves forward.
        await cache.mark_changed(event.tenant, changed_ms=int(event.indexed_at.timestamp() * 1000))

    return router
