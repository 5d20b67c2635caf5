"""Nothing the embedded broker acknowledged is lost: not by a SIGKILL, not by down and up.

The broker (Tansu) keeps its log as objects in our S3 server (platform_stack.s3_server), which
writes them to disk under the stack's state folder. These tests run on the real stack and count
documents: each one a producer saw acknowledged (acks=all) must come out indexed.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import subprocess
import sys
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from contracts import DocumentIndexed, IndexStatus, topics
from contracts.rpc import assistant_pb2
from platform_stack.config import free_port
from platform_stack.documents import push_documents, read_topic, run
from platform_stack.readiness import tcp_open, wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from aiokafka import ConsumerRecord

    from platform_stack import Stack

pytestmark = pytest.mark.integration

Key = tuple[str, str, int]
#: The document pipeline's consumer groups and the topic each one reads.
_GROUPS = {
    "ingestion": topics.DOCUMENTS_SUBMITTED,
    "embedding": topics.DOCUMENTS_CHUNKED,
    "retrieval": topics.DOCUMENTS_EMBEDDED,
}


def _text(n: int) -> str:
    return (
        f"Maintenance log {n}. The conveyor belt tension on line {n} was checked and adjusted.\n\n"
        f"Inspection {n} found the bearing temperature within limits after the adjustment."
    )


def _confirmations(
    bootstrap: str, expected: set[Key], *, timeout_s: float
) -> dict[Key, list[DocumentIndexed]]:
    """Every confirmation on documents.indexed.v1, read until each expected key has one."""
    seen: dict[Key, list[DocumentIndexed]] = defaultdict(list)
    read = 0

    def all_seen(records: list[ConsumerRecord]) -> bool:
        nonlocal read
        for record in records[read:]:
            event = DocumentIndexed.model_validate_json(record.value)
            seen[(event.tenant, event.document_id, event.version)].append(event)
        read = len(records)
        return expected <= seen.keys()

    try:
        run(read_topic(bootstrap, topics.DOCUMENTS_INDEXED, until=all_seen, timeout_s=timeout_s))
    except TimeoutError as exc:
        missing = sorted(expected - seen.keys())
        raise AssertionError(
            f"{len(missing)} of {len(expected)} acknowledged documents never indexed: "
            f"{missing[:10]}"
        ) from exc
    return seen


def _committed(bootstrap: str) -> dict[tuple[str, str, int], int]:
    """(group, topic, partition) -> committed offset, for the document pipeline's groups."""

    async def read() -> dict[tuple[str, str, int], int]:
        offsets = {}
        for group, topic in _GROUPS.items():
            # Asks the group coordinator (OffsetFetch) without joining the group.
            consumer = AIOKafkaConsumer(
                bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
            )
            await consumer.start()
            try:
                await consumer.topics()  # fetches the metadata partitions_for_topic reads
                for partition in sorted(consumer.partitions_for_topic(topic) or ()):
                    committed = await consumer.committed(TopicPartition(topic, partition))
                    if committed is not None and committed >= 0:
                        offsets[(group, topic, partition)] = committed
            finally:
                await consumer.stop()
        return offsets

    return run(read())


def _assert_one_point_per_chunk(assistant, principal, indexed: dict[Key, DocumentIndexed]) -> None:
    chunks = sum(event.chunk_count for event in indexed.values())
    passages = assistant.Search(
        assistant_pb2.SearchRequest(
            principal=principal, query="conveyor belt tension bearing temperature", top_k=100
        ),
        timeout=30,
    ).passages
    assert len(passages) == min(chunks, 100)
    # Redelivered work overwrote its points; it did not add any.
    assert len({(p.document_id, p.chunk_index) for p in passages}) == len(passages)


def test_a_broker_killed_mid_ingest_loses_no_acknowledged_document(
    own_stack: Stack, assistant, principal, tenant, make_document
):
    stack = own_stack
    bootstrap = stack.config.kafka_bootstrap
    docs = [make_document(f"log-{n}", _text(n), version=1) for n in range(100)]
    crash_after = 30
    victim = stack.process("kafka")
    assert victim is not None

    crash_now = threading.Event()

    async def produce() -> tuple[list[Key], int]:
        """Send every document until the broker acknowledges it, as a producer with retries."""
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", request_timeout_ms=5000
        )
        await producer.start()
        acked: list[Key] = []
        retries = 0
        try:
            for doc in docs:
                while True:
                    try:
                        await asyncio.wait_for(
                            producer.send_and_wait(
                                topics.DOCUMENTS_SUBMITTED,
                                json.dumps(doc).encode(),
                                key=doc["id"].encode(),
                            ),
                            timeout=10,
                        )
                        break
                    except (KafkaError, TimeoutError):
                        retries += 1  # not acknowledged: send it again
                        await asyncio.sleep(0.2)
                acked.append((doc["tenant"], doc["id"], 1))
                if len(acked) == crash_after:
                    crash_now.set()
        finally:
            await producer.stop()
        return acked, retries

    # The producer runs on in a thread of its own while this (main) thread kills and restarts
    # the broker: a child is tied to the thread that started it (PR_SET_PDEATHSIG).
    with ThreadPoolExecutor(1) as pool:
        producing = pool.submit(run, produce())
        assert crash_now.wait(timeout=60), "30 documents were never acknowledged"
        crashed_at = datetime.now(UTC)
        stack.stop_component("kafka", crash=True)  # SIGKILL: no flush, no goodbye
        stack.start_component("kafka", timeout_s=60)
        acked, retries = producing.result(timeout=120)
    assert not victim.alive()
    assert stack.process("kafka") is not None and stack.process("kafka").pid != victim.pid

    seen = _confirmations(bootstrap, set(acked), timeout_s=150)
    assert len(acked) == len(docs)
    first = {key: min(e.indexed_at for e in seen[key]) for key in acked}
    pending_at_crash = [key for key in acked[:crash_after] if first[key] > crashed_at]
    print(
        f"\n{len(acked)} documents acknowledged ({crash_after} before the SIGKILL, "
        f"{len(pending_at_crash)} of those not yet indexed when it hit), "
        f"{retries} sends retried across the restart, {len(acked)} indexed"
    )
    # The crash hit acknowledged work in flight, and that work survived it.
    assert pending_at_crash, "every document was indexed before the crash: nothing was tested"
    latest = {key: seen[key][-1] for key in acked}
    assert {event.status for event in latest.values()} == {IndexStatus.INDEXED}
    _assert_one_point_per_chunk(assistant, principal, latest)


def test_stop_and_start_keep_unconsumed_messages_and_committed_offsets(
    own_stack: Stack, assistant, principal, tenant, make_document
):
    stack = own_stack
    bootstrap = stack.config.kafka_bootstrap
    first_batch = [make_document(f"early-{n}", _text(n), version=1) for n in range(20)]
    second_batch = [make_document(f"late-{n}", _text(n + 100), version=1) for n in range(40)]
    early = {(tenant, d["id"], 1) for d in first_batch}
    late = {(tenant, d["id"], 1) for d in second_batch}

    run(push_documents(bootstrap, first_batch))
    _confirmations(bootstrap, early, timeout_s=90)
    before = _committed(bootstrap)
    assert {group for group, *_ in before} == set(_GROUPS)

    run(push_documents(bootstrap, second_batch))  # acknowledged, then straight to `down`
    stopped_at = datetime.now(UTC)
    stack.stop()
    stack.start(timeout_s=120)

    # Every group resumes where it had committed, not from the start of the log.
    after = _committed(bootstrap)
    regressed = {k: (v, after.get(k)) for k, v in before.items() if after.get(k, -1) < v}
    assert regressed == {}, f"committed offsets lost across stop/start: {regressed}"

    seen = _confirmations(bootstrap, early | late, timeout_s=120)
    # The early batch had been indexed and committed: nothing of it is redone.
    assert [k for k in early if len(seen[k]) != 1] == []
    waiting = [k for k in late if min(e.indexed_at for e in seen[k]) > stopped_at]
    print(
        f"\n{len(late)} documents acknowledged before the stop, {len(waiting)} of them "
        f"indexed only after the start; {len(early)} earlier documents indexed once"
    )
    assert waiting, "the second batch was indexed before the stop: nothing was tested"
    latest = {key: seen[key][-1] for key in early | late}
    assert {event.status for event in latest.values()} == {IndexStatus.INDEXED}
    _assert_one_point_per_chunk(assistant, principal, latest)


class _ObjectServer:
    """platform_stack.s3_server in a process of its own, and a client of it."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        argv = ["--root", str(root), "--port", str(self.port), "--bucket", "tansu"]
        self.process = subprocess.Popen([sys.executable, "-m", "platform_stack.s3_server", *argv])
        wait_until(lambda: tcp_open(self.port), what="s3 server", timeout_s=30, process=None)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def call(self, method: str, path: str, body: bytes = b"", **headers: str):
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.getheader("ETag"), response.read()

    def close(self) -> None:
        self.conn.close()
        self.process.terminate()
        self.process.wait(timeout=10)


def test_the_object_server_honours_conditional_writes_and_keeps_them(tmp_path: Path):
    """What Tansu relies on after a restart: a create or an update never overwrites blindly.

    (s3rver and local-s3-server ignore these headers: a restarted broker then rewrites its
    watermarks and batches from offset 0.)
    """
    server = _ObjectServer(tmp_path)
    call = server.call
    try:
        status, etag, _ = call("PUT", "/tansu/a/w.json", b"1", **{"If-None-Match": "*"})
        assert status == 200 and etag
        assert call("PUT", "/tansu/a/w.json", b"2", **{"If-None-Match": "*"})[0] == 412
        assert call("PUT", "/tansu/a/w.json", b"3", **{"If-Match": '"stale"'})[0] == 412
        status, new_etag, _ = call("PUT", "/tansu/a/w.json", b"4", **{"If-Match": etag})
        assert status == 200 and new_etag != etag
        assert call("GET", "/tansu/a/w.json") == (200, new_etag, b"4")
        assert call("GET", "/tansu/a/w.json", **{"If-None-Match": new_etag})[0] == 304
        for n in range(1005):
            assert call("PUT", f"/tansu/a/r/{n:05d}.batch", b"x")[0] == 200
        assert call("PUT", "/tansu/a/gone", b"x")[0] == 200
        assert call("DELETE", "/tansu/a/gone")[0] == 204
        assert call("GET", "/tansu/a/gone")[0] == 404
    finally:
        server.close()

    # A new server on the same folder finds every object, listed in pages of 1,000.
    server = _ObjectServer(tmp_path)
    try:
        assert server.call("GET", "/tansu/a/w.json")[::2] == (200, b"4")
        keys, token = [], ""
        while True:
            query = "/tansu?list-type=2&prefix=a/r/"
            if token:
                query += f"&continuation-token={quote(token, safe='')}"
            status, _, body = server.call("GET", query)
            assert status == 200
            text = body.decode()
            keys += [part.split("</Key>")[0] for part in text.split("<Key>")[1:]]
            if "<NextContinuationToken>" not in text:
                break
            token = text.split("<NextContinuationToken>")[1].split("<")[0]
        assert keys == [f"a/r/{n:05d}.batch" for n in range(1005)]
    finally:
        server.close()
