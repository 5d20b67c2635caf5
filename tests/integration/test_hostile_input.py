"""Each message that used to stop a partition for good is dead-lettered, and its neighbours are indexed.

The reproductions of issue 6, on the real stack: documents with nothing to index,
messages no decoder survives, values the schema forbids, events the index cannot
apply, and a consumer waiting out an outage that health reports.
"""

from __future__ import annotations

import base64
import json
import time

import grpc
import pytest

from contracts import topics
from contracts.events import document_key, utc_now
from contracts.rpc import assistant_pb2, ingestion_pb2
from platform_stack.documents import (
    push_documents,
    push_raw,
    read_dead_letters,
    read_topic,
    run,
    wait_for_indexed,
)
from platform_stack.readiness import grpc_serving

pytestmark = pytest.mark.integration

GOOD = "Badge access to the server room is logged and reviewed every quarter."


def _search_ids(assistant, principal, query: str) -> set[str]:
    response = assistant.Search(
        assistant_pb2.SearchRequest(principal=principal, query=query, top_k=50), timeout=20
    )
    return {p.document_id for p in response.passages}


def test_documents_with_nothing_to_index_are_dead_lettered_as_no_content(
    stack, assistant, principal, tenant, make_document
):
    bootstrap = stack.config.kafka_bootstrap
    one_line = "quarterly sales meeting notes for the west region"
    run(
        push_documents(
            bootstrap,
            [
                make_document("before", GOOD),
                make_document("nul-1", "\u0000"),
                make_document(
                    "html-1",
                    "<script>alert(1)</script><style>p{}</style>",
                    media_type="text/html",
                ),
                make_document("short-1", one_line),
                make_document("after", GOOD),
            ],
        )
    )
    indexed = run(
        wait_for_indexed(
            bootstrap, {(tenant, "before", 0), (tenant, "short-1", 0), (tenant, "after", 0)}
        )
    )
    # A one-line text is content, not a heading.
    assert indexed[(tenant, "short-1", 0)].chunk_count == 1
    assert "short-1" in _search_ids(assistant, principal, "west region sales meeting")

    dead = run(
        read_dead_letters(bootstrap, topics.DOCUMENTS_SUBMITTED_DEAD_LETTER, {b"nul-1", b"html-1"})
    )
    for key in (b"nul-1", b"html-1"):
        assert dead[key]["headers"]["x-error-type"] == "no_content"
        assert "no indexable text" in dead[key]["headers"]["x-error-reason"]


@pytest.mark.parametrize("text", ["\u0000", "   \n\u0001"])
def test_submit_document_refuses_a_body_with_nothing_to_index(ingestion, principal, text):
    with pytest.raises(grpc.RpcError) as refused:
        ingestion.SubmitDocument(
            ingestion_pb2.SubmitDocumentRequest(
                principal=principal, document=ingestion_pb2.Document(id="nul-grpc", text=text)
            ),
            timeout=10,
        )
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "document.text" in refused.value.details()


def test_messages_no_decoder_survives_are_dead_lettered_and_the_partition_moves_on(
    stack, assistant, principal, tenant, make_document
):
    bootstrap = stack.config.kafka_bootstrap
    deep = b"[" * 10_000 + b"]" * 10_000
    prefix = json.dumps(make_document("x", GOOD))[:-1].encode()
    deep_metadata = prefix + b', "metadata": ' + b'{"a": ' * 10_000 + b'"v"' + b"}" * 10_001
    huge_version = (
        prefix.replace(b'"id": "x"', b'"id": "huge"') + b', "version": 9' + b"9" * 4999 + b"}"
    )
    hostile = {
        b"deep": deep,
        b"deep-metadata": deep_metadata,
        b"huge-version": huge_version,
        b"string-version": json.dumps(make_document("sv", GOOD, version="3")).encode(),
        b"bool-version": json.dumps(make_document("bv", GOOD, version=True)).encode(),
        b"u64-version": json.dumps(make_document("uv", GOOD, version=2**64)).encode(),
    }
    # One key for all of them: one partition, so "after" is indexed only if each one
    # in front of it was settled.
    key = b"same-partition"
    labelled_json = b'{"tenant": "' + tenant.encode() + b'", "id": '
    run(push_raw(bootstrap, [(key, json.dumps(make_document("before", GOOD)).encode())]))
    run(push_raw(bootstrap, [(key, value) for value in hostile.values()]))
    # A producer that labels its broken JSON as JSON (faststream would parse it itself).
    run(
        push_raw(bootstrap, [(key, labelled_json)], headers=[("content-type", b"application/json")])
    )
    run(push_raw(bootstrap, [(key, json.dumps(make_document("after", GOOD)).encode())]))
    hostile[b"labelled-json"] = labelled_json
    run(wait_for_indexed(bootstrap, {(tenant, "before", 0), (tenant, "after", 0)}))
    assert _search_ids(assistant, principal, "server room badge access") == {"before", "after"}

    records = run(
        _dead_letters_with(bootstrap, topics.DOCUMENTS_SUBMITTED_DEAD_LETTER, set(hostile.values()))
    )
    for name, value in hostile.items():
        headers = records[value]
        assert headers["x-error-type"] in {"invalid_json", "schema_violation"}, name
        assert headers["x-error-reason"], name
    for name in (b"string-version", b"bool-version", b"u64-version"):
        assert records[hostile[name]]["x-error-type"] == "schema_violation"
        assert "version" in records[hostile[name]]["x-error-reason"]


def _embedded_event(tenant: str, doc_id: str, *, chunks: list[dict]) -> bytes:
    return json.dumps(
        {
            "tenant": tenant,
            "document_id": doc_id,
            "operation": "upsert",
            "version": 0,
            "submitted_at": utc_now().isoformat(),
            "model": "test",
            "chunks": chunks,
        }
    ).encode()


def test_events_the_index_cannot_apply_are_dead_lettered_after_bounded_attempts(
    stack, assistant, principal, tenant, make_document, read_log
):
    bootstrap = stack.config.kafka_bootstrap
    key = document_key(tenant, "wedge").encode()
    no_chunks = _embedded_event(tenant, "wedge", chunks=[])
    short_vector = base64.b64encode(b"\x00\x00\x80\x3f" * 3).decode()  # 3 dimensions, not 384
    wrong_dimensions = _embedded_event(
        tenant,
        "wedge",
        chunks=[{"index": 0, "text": "x", "start": 0, "end": 1, "vector_b64": short_vector}],
    )
    run(
        push_raw(
            bootstrap, [(key, no_chunks), (key, wrong_dimensions)], topic=topics.DOCUMENTS_EMBEDDED
        )
    )
    # The same document through the whole pipeline lands on the same partition behind them.
    run(push_documents(bootstrap, [make_document("wedge", GOOD, version=1)]))
    run(wait_for_indexed(bootstrap, {(tenant, "wedge", 1)}))
    assert "wedge" in _search_ids(assistant, principal, "server room badge access")

    dead = run(
        _dead_letters_with(
            bootstrap, topics.DOCUMENTS_EMBEDDED_DEAD_LETTER, {no_chunks, wrong_dimensions}
        )
    )
    assert dead[no_chunks]["x-error-type"] == "no_content"
    failed = dead[wrong_dimensions]
    assert failed["x-error-type"] == "handler_error"
    assert failed["x-error-attempts"] == "3"
    assert failed["x-error-exception"]
    retries = [
        json.loads(line)
        for line in read_log("retrieval").splitlines()
        if '"consumer_attempt_failed"' in line
    ]
    assert retries, "the failed attempts were not logged"
    assert {r["level"] for r in retries} == {"warning"}


def test_a_consumer_waiting_out_an_outage_is_not_serving_and_says_why(
    own_stack, tenant, make_document, read_log
):
    stack = own_stack
    embedding = stack.config.address("embedding")
    consumer = "consumer/embedding/documents.chunked.v1"
    assert grpc_serving(embedding, consumer)
    stack.stop_component("triton")
    try:
        run(push_documents(stack.config.kafka_bootstrap, [make_document("outage", GOOD)]))
        assert _eventually(lambda: not grpc_serving(embedding, consumer), timeout_s=90), (
            "consumer still SERVING in an outage"
        )
        warnings = [
            json.loads(line)
            for line in read_log("embedding").splitlines()
            if '"consumer_dependency_unavailable"' in line
        ]
        assert warnings, "no warning names the outage"
        assert warnings[-1]["level"] == "warning"
        assert warnings[-1]["attempts"] >= 1 and warnings[-1]["dependency"]
    finally:
        stack.start_component("triton", timeout_s=180)
    # Nothing was dead-lettered for an outage: the document is indexed once Triton is back.
    run(wait_for_indexed(stack.config.kafka_bootstrap, {(tenant, "outage", 0)}, timeout_s=180))
    # Health is refreshed every second: the consumer reports SERVING at the next probe.
    assert _eventually(lambda: grpc_serving(embedding, consumer), timeout_s=30), (
        "consumer NOT_SERVING after the outage ended"
    )
    for service in ("embedding", "retrieval", "generation"):
        address = stack.config.address(service)
        assert _eventually(lambda a=address: grpc_serving(a), timeout_s=60), service


def _eventually(check, *, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
    return True


async def _dead_letters_with(bootstrap: str, topic: str, values: set[bytes]) -> dict[bytes, dict]:
    """Dead letters keyed by their (original, unchanged) value: value -> headers."""
    records = await read_topic(
        bootstrap, topic, until=lambda rs: values <= {r.value for r in rs}, timeout_s=60
    )
    return {r.value: {k: v.decode("utf-8", "replace") for k, v in r.headers} for r in records}
