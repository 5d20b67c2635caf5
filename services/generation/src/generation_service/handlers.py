"""Kafka subscribers: a changed document retires its tenant's older cached answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faststream.kafka import KafkaRouter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contracts import DocumentIndexed, IndexStatus, topics
from platform_kafka import event_subscriber

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

    from generation_service.adapters import AnswerCache


def build_router(*, broker: KafkaBroker, cache: AnswerCache, group_id: str) -> KafkaRouter:
    """Subscribers of the generation service, closed over their dependencies."""
    router = KafkaRouter()

    # No dead-letter topic: this is our own confirmation topic, and a bad message
    # here is a bug upstream that blocking the partition would not fix.
    @event_subscriber(
        router,
        topics.DOCUMENTS_INDEXED,
        model=DocumentIndexed,
        broker=broker,
        group_id=group_id,
        dead_letter_topic=None,
        outages={RedisConnectionError: "redis", RedisTimeoutError: "redis"},
        # Answers are served fresh while Redis is down; a backlog of invalidations must
        # not take the Assistant out of rotation (its own health name still reports it).
        affects_readiness=False,
    )
    async def on_document_indexed(event: DocumentIndexed) -> None:
        if event.status is IndexStatus.STALE_IGNORED:
            return
        # Idempotent: the change time only ever moves forward.
        await cache.mark_changed(event.tenant, changed_ms=int(event.indexed_at.timestamp() * 1000))

    return router
