"""Pushing documents through Kafka and waiting for their confirmations (demo and tests)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts import DocumentIndexed, topics

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from aiokafka import ConsumerRecord


async def push_raw(
    bootstrap: str,
    messages: Iterable[tuple[bytes | None, bytes]],
    *,
    headers: list[tuple[str, bytes]] | None = None,
    topic: str = topics.DOCUMENTS_SUBMITTED,
) -> None:
    """Produce (key, value) pairs to `topic` (documents.submitted.v1), as a producer would."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=8 * 1024 * 1024
    )
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def push_documents(bootstrap: str, documents: Iterable[dict[str, Any]]) -> None:
    """Produce JSON documents keyed by their id."""
    await push_raw(bootstrap, ((d["id"].encode(), json.dumps(d).encode()) for d in documents))


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[ConsumerRecord]], bool],
    timeout_s: float = 120.0,
) -> list[ConsumerRecord]:
    """Read `topic` from the start, as a consumer of its own, until `until(records so far)`."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout_s
    try:
        while not until(records):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{topic}: condition not met within {timeout_s:.0f} s")
            batch = await consumer.getmany(timeout_ms=int(min(left, 1.0) * 1000))
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def wait_for_indexed(
    bootstrap: str, expected: set[tuple[str, str, int]], *, timeout_s: float = 120.0
) -> dict[tuple[str, str, int], DocumentIndexed]:
    """Read documents.indexed.v1 until every (tenant, id, version) is confirmed.

    A key confirmed twice maps to its latest confirmation (same partition, so in order).
    """
    seen: dict[tuple[str, str, int], DocumentIndexed] = {}
    read = 0

    def all_seen(records: list[ConsumerRecord]) -> bool:
        nonlocal read
        for record in records[read:]:
            event = DocumentIndexed.model_validate_json(record.value)
            seen[(event.tenant, event.document_id, event.version)] = event
        read = len(records)
        return expected <= seen.keys()

    try:
        await read_topic(bootstrap, topics.DOCUMENTS_INDEXED, until=all_seen, timeout_s=timeout_s)
    except TimeoutError as exc:
        missing = sorted(expected - seen.keys())
        raise TimeoutError(f"not indexed within {timeout_s:.0f} s: {missing[:10]}") from exc
    return seen


async def read_dead_letters(
    bootstrap: str, topic: str, keys: set[bytes], *, timeout_s: float = 60.0
) -> dict[bytes, dict[str, Any]]:
    """Read a dead-letter topic until every key in `keys` is there: key -> value and headers.

    A key dead-lettered twice maps to its latest record.
    """
    records = await read_topic(
        bootstrap,
        topic,
        until=lambda records: keys <= {r.key for r in records},
        timeout_s=timeout_s,
    )
    return {
        r.key: {
            "value": r.value,
            "headers": {k: v.decode("utf-8", "replace") for k, v in r.headers or ()},
        }
        for r in records
    }


def run(coro: Any) -> Any:
    """Run a coroutine from synchronous code (CLI, tests)."""
    return asyncio.run(coro)
