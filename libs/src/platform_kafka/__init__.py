"""Kafka wiring shared by every service: broker, topics, tracing, dead letters."""

from __future__ import annotations

from platform_kafka.broker import build_broker, ensure_topics
from platform_kafka.dead_letter import (
    DEAD_LETTER_HEADERS,
    PoisonMessage,
    decode_event,
    records_of,
    send_to_dead_letter,
    trace_id_of,
)
from platform_kafka.failures import (
    FailurePolicy,
    RedeliveryNeeded,
    attempt_until_settled,
    describe_exception,
)
from platform_kafka.lag import GroupLag
from platform_kafka.progress import ConsumerProgress, supervision_of
from platform_kafka.subscriber import event_subscriber, undecoded
from platform_kafka.tracing import TraceMiddleware

__all__ = (
    "DEAD_LETTER_HEADERS",
    "ConsumerProgress",
    "FailurePolicy",
    "GroupLag",
    "PoisonMessage",
    "RedeliveryNeeded",
    "TraceMiddleware",
    "attempt_until_settled",
    "build_broker",
    "decode_event",
    "describe_exception",
    "ensure_topics",
    "event_subscriber",
    "records_of",
    "send_to_dead_letter",
    "supervision_of",
    "trace_id_of",
    "undecoded",
)
