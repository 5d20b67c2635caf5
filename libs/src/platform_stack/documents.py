"""Pushing documents through Kafka and waiting for their confirmations (demo and tests)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts import DocumentIndexed, topics

if TYPE_CHECKING:
    from collections.abc import Iterable


async def push_raw(
    bootstrap: str,
    messages: Iterable[tuple[bytes | None, bytes]],
    *,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Produce (key, value) pairs to documents.submitted.v1, as an outside producer would."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=8 * 1024 * 1024
    )
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(
                topics.DOCUMENTS_SUBMITTED, value, key=key, headers=headers
            )
    finally:
        await producer.stop()


async def push_documents(bootstrap: str, documents: Iterable[dict[str, Any]]) -> None:
    """Produce JSON documents keyed by their id."""
    await push_raw(bootstrap, ((d["id"].encode(), json.dumps(d).encode()) for d in documents))


async def wait_for_indexed(
    bootstrap: str, expected: set[tuple[str, str, int]], *, timeout_s: float = 120.0
) -> dict[tuple[str, str, int], DocumentIndexed]:
    """Read documents.indexed.v1 from the start until every (tenant, id, version) is seen."""
    consumer = AIOKafkaConsumer(
        topics.DOCUMENTS_INDEXED,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: dict[tuple[str, str, int], DocumentIndexed] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while not expected <= seen.keys():
            left = deadline - time.monotonic()
            if left <= 0:
                missing = sorted(expected - seen.keys())
                raise TimeoutError(f"not indexed within {timeout_s:.0f} s: {missing[:10]}")
            batch = await consumer.getmany(timeout_ms=int(min(left, 1.0) * 1000))
            for records in batch.values():
                for record in records:
                    event = DocumentIndexed.model_validate_json(record.value)
                    seen[(event.tenant, event.document_id, event.version)] = event
    finally:
        await consumer.stop()
    return seen


def run(coro: Any) -> Any:
    """Run a coroutine from synchronous code (CLI, tests)."""
    return asyncio.run(coro)
