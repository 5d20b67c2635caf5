"""librdkafka (confluent-kafka, the library under kcat and most non-Java clients) against the
embedded broker: a producer's documents are confirmed or dead-lettered, and a consumer of its
own group reads both, commits, and finds its offsets committed."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, Producer

from contracts import DocumentIndexed, IndexStatus, topics

pytestmark = pytest.mark.integration


def test_a_librdkafka_producer_and_consumer_work_with_the_embedded_broker(stack, tenant):
    bootstrap = stack.config.kafka_bootstrap
    good = {"tenant": tenant, "id": "leave", "text": "Employees get 25 days of paid leave."}
    malformed_key = f"broken-{uuid.uuid4().hex[:8]}".encode()

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    delivered: list[tuple[str, int, int]] = []

    def on_delivery(err: KafkaError | None, msg) -> None:
        assert err is None, err
        delivered.append((msg.topic(), msg.partition(), msg.offset()))

    producer.produce(
        topics.DOCUMENTS_SUBMITTED, json.dumps(good).encode(), b"leave", on_delivery=on_delivery
    )
    producer.produce(
        topics.DOCUMENTS_SUBMITTED,
        b'{"tenant": "' + tenant.encode() + b'", "id": ',  # cut short: not JSON
        malformed_key,
        headers=[("x-trace-id", b"librdkafka-test")],
        on_delivery=on_delivery,
    )
    assert producer.flush(30) == 0
    assert len(delivered) == 2 and all(offset >= 0 for _, _, offset in delivered)

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-librdkafka-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topics.DOCUMENTS_INDEXED, topics.DOCUMENTS_SUBMITTED_DEAD_LETTER])
    confirmation: DocumentIndexed | None = None
    dead_letter_headers: dict[str, bytes] | None = None
    try:
        deadline = time.monotonic() + 120
        while (confirmation is None or dead_letter_headers is None) and (
            time.monotonic() < deadline
        ):
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            if message.topic() == topics.DOCUMENTS_INDEXED:
                event = DocumentIndexed.model_validate_json(message.value())
                if event.tenant == tenant and event.document_id == "leave":
                    confirmation = event
            elif message.key() == malformed_key:
                dead_letter_headers = dict(message.headers() or [])
        assert confirmation is not None, "no confirmation within 120 s"
        assert dead_letter_headers is not None, "no dead letter within 120 s"
        # The group's offsets are stored by the broker and read back.
        consumer.commit(asynchronous=False)
        committed = consumer.committed(consumer.assignment(), timeout=10)
        assert any(tp.offset > 0 for tp in committed)
    finally:
        consumer.close()

    assert confirmation.status is IndexStatus.INDEXED
    assert confirmation.chunk_count >= 1
    assert dead_letter_headers["x-error-type"] == b"invalid_json"
    assert dead_letter_headers["x-original-key"] == malformed_key
    assert dead_letter_headers["x-error-reason"]
