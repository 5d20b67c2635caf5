"""librdkafka (confluent-kafka) clients for the command: where the broker is, what it holds.

librdkafka is the library under kcat and most non-Java clients; a client built on it that
works here shows that outside producers' clients work with the embedded broker too.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import TYPE_CHECKING

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from genai_cli.errors import CliError
from platform_stack.config import StackConfig

if TYPE_CHECKING:
    from collections.abc import Iterable

    from confluent_kafka import Message

__all__ = (
    "MAX_MESSAGE_BYTES",
    "assign_at_end",
    "check_topics",
    "header_dict",
    "make_consumer",
    "make_producer",
    "poll_record",
    "resolve_bootstrap",
)

#: Our topics are created for 8 MiB messages (see contracts.events); so is every producer.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
_METADATA_TIMEOUT_S = 10.0

# librdkafka logs every failed connection attempt to stderr; the command reports an
# unreachable broker once, in a sentence, so its log goes to Python logging, off by default.
_LIBRDKAFKA_LOG = logging.getLogger("genai.librdkafka")
_LIBRDKAFKA_LOG.addHandler(logging.NullHandler())
_LIBRDKAFKA_LOG.propagate = False


def resolve_bootstrap(explicit: str | None) -> str:
    """--bootstrap, else $KAFKA_BOOTSTRAP_SERVERS, else the embedded stack's broker."""
    if explicit:
        return explicit
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or StackConfig.from_env().kafka_bootstrap


def make_producer(bootstrap: str) -> Producer:
    """A producer that waits for every replica and takes messages up to 8 MiB."""
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": "genai-cli",
            "acks": "all",
            "message.max.bytes": MAX_MESSAGE_BYTES,
            # A missing topic or a dead broker fails the message in 30 s, not librdkafka's 5 min.
            "message.timeout.ms": 30_000,
            "logger": _LIBRDKAFKA_LOG,
        }
    )


def make_consumer(bootstrap: str, *, group: str | None = None, from_beginning: bool) -> Consumer:
    """A consumer; without `group` it joins none (partitions are assigned, nothing committed)."""
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": "genai-cli",
            # librdkafka wants a group id even for assigned partitions; a throwaway one is
            # never joined nor committed to.
            "group.id": group or f"genai-cli-{uuid.uuid4().hex[:12]}",
            "enable.auto.commit": group is not None,
            "auto.offset.reset": "earliest" if from_beginning else "latest",
            "fetch.max.bytes": 2 * MAX_MESSAGE_BYTES,
            "max.partition.fetch.bytes": MAX_MESSAGE_BYTES,
            "allow.auto.create.topics": False,
            # The embedded broker (Tansu) holds a JoinGroup for about half the session
            # timeout: 23 s at librdkafka's default 45 s, 3 s at 6 s (measured).
            "session.timeout.ms": 6000,
            "logger": _LIBRDKAFKA_LOG,
        }
    )


def check_topics(client: Producer | Consumer, bootstrap: str, wanted: Iterable[str]) -> set[str]:
    """Which of `wanted` exist; raises CliError when the broker cannot be reached.

    Asks for every topic's metadata: a request naming a topic could create it.
    """
    try:
        metadata = client.list_topics(timeout=_METADATA_TIMEOUT_S)
    except KafkaException as exc:
        raise CliError(
            f"cannot reach the Kafka broker at {bootstrap} ({exc.args[0].str()}); is the "
            "stack up (`genai up`), or pass --bootstrap / set KAFKA_BOOTSTRAP_SERVERS"
        ) from exc
    return {t for t in wanted if t in metadata.topics and not metadata.topics[t].error}


def assign_at_end(consumer: Consumer, topics: Iterable[str]) -> None:
    """Assign every partition of `topics` at its current end: only records produced from now."""
    metadata = consumer.list_topics(timeout=_METADATA_TIMEOUT_S)
    assignment = []
    for topic in topics:
        for partition in metadata.topics[topic].partitions:
            _, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=_METADATA_TIMEOUT_S
            )
            assignment.append(TopicPartition(topic, partition, high))
    consumer.assign(assignment)


def poll_record(consumer: Consumer, timeout_s: float = 0.5) -> Message | None:
    """The next record, or None when none came in time or a partition's end was reached;
    any other error of the read is a CliError."""
    message = consumer.poll(timeout_s)
    if message is None:
        return None
    error = message.error()
    if error is None:
        return message
    if error.code() == KafkaError._PARTITION_EOF:
        return None
    raise CliError(f"reading {message.topic()}: {error.str()}")


def header_dict(message: Message) -> dict[str, str]:
    """A record's headers as text (a repeated header keeps its last value)."""
    return {k: (v or b"").decode("utf-8", "replace") for k, v in message.headers() or ()}
