"""Broker construction and topic creation, the same for every service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from platform_kafka.failures import FailurePolicy
from platform_kafka.progress import supervise
from platform_kafka.tracing import TraceMiddleware
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Iterable

    from platform_settings import KafkaSettings

_log = get_logger(__name__)

# error code Kafka returns for "topic already exists" in a CreateTopics response.
_TOPIC_EXISTS = TopicAlreadyExistsError.errno


def build_broker(settings: KafkaSettings, *, client_id: str) -> KafkaBroker:
    """Return a broker whose producer waits for all replicas and carries trace ids.

    Its consumers settle failures by the configured `FailurePolicy`.
    """
    broker = KafkaBroker(
        settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.enable_idempotence,
        max_request_size=settings.max_request_bytes,
        # Topics are created explicitly (ensure_topics) with the configured
        # partitions, never implicitly by a typo in a topic name.
        allow_auto_create_topics=False,
        middlewares=(TraceMiddleware,),
        logger=None,
    )
    supervise(broker, FailurePolicy.from_settings(settings))
    return broker


async def ensure_topics(settings: KafkaSettings, topics: Iterable[str]) -> None:
    """Create the topics a service uses if they are missing; safe to run concurrently."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [NewTopic(t, settings.topic_partitions, settings.replication_factor) for t in missing]
        )
        for topic, code, *_ in response.topic_errors:
            if code not in (0, _TOPIC_EXISTS):
                raise RuntimeError(f"cannot create topic {topic!r}: Kafka error code {code}")
        _log.info("topics_created", topics=missing)
    finally:
        await admin.close()
