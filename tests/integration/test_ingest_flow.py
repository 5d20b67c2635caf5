"""A document pushed to Kafka is chunked, embedded on Triton, indexed in Qdrant, confirmed."""

from __future__ import annotations

import json

import grpc
import pytest

from contracts import IndexStatus, topics
from contracts.rpc import assistant_pb2, common_pb2, ingestion_pb2
from platform_stack.documents import (
    push_documents,
    push_raw,
    read_dead_letters,
    run,
    wait_for_indexed,
)

pytestmark = pytest.mark.integration

HOTELS = (
    "# Travel policy\n\n## Hotels\n\nHotel stays are capped at USD 325 per night in London "
    "and USD 200 per night elsewhere.\n\n## Meals\n\nThe daily meal allowance is USD 75."
)
SECURITY = (
    "Multi-factor authentication is mandatory. Approved methods are Okta Verify and FIDO2 keys."
)


def _search(assistant, principal, query: str, top_k: int = 50) -> list[common_pb2.Passage]:
    response = assistant.Search(
        assistant_pb2.SearchRequest(principal=principal, query=query, top_k=top_k), timeout=20
    )
    return list(response.passages)


def test_pushed_documents_are_indexed_and_searchable(
    stack, assistant, principal, tenant, make_document
):
    docs = [
        make_document(
            "travel", HOTELS, media_type="text/markdown", source="https://intranet/travel"
        ),
        make_document("security", SECURITY, version=2),
    ]
    run(push_documents(stack.config.kafka_bootstrap, docs))
    indexed = run(
        wait_for_indexed(
            stack.config.kafka_bootstrap, {(tenant, "travel", 0), (tenant, "security", 2)}
        )
    )
    assert {e.status for e in indexed.values()} == {IndexStatus.INDEXED}
    assert indexed[(tenant, "travel", 0)].chunk_count >= 2  # one per heading

    hits = _search(assistant, principal, "hotel limit per night in London", top_k=3)
    assert hits[0].document_id == "travel"
    assert "USD 325" in hits[0].text
    assert hits[0].source == "https://intranet/travel"
    assert (
        _search(assistant, principal, "which MFA methods are approved", top_k=1)[0].document_id
        == "security"
    )


def test_a_producers_trace_id_follows_the_document_through_every_service(
    stack, tenant, make_document, read_log
):
    body = json.dumps(make_document("traced", SECURITY)).encode()
    run(
        push_raw(
            stack.config.kafka_bootstrap,
            [(b"traced", body)],
            headers=[("x-trace-id", b"trace-ingest-0001")],
        )
    )
    run(wait_for_indexed(stack.config.kafka_bootstrap, {(tenant, "traced", 0)}))
    for service in ("ingestion", "embedding", "retrieval"):
        lines = [line for line in read_log(service).splitlines() if "trace-ingest-0001" in line]
        assert lines, f"{service} logged nothing with the producer's trace id"
        assert json.loads(lines[-1])["trace_id"] == "trace-ingest-0001"


def test_malformed_messages_go_to_dead_letter_and_neighbours_are_indexed(
    stack, assistant, principal, tenant, make_document
):
    good_before = json.dumps(make_document("before", SECURITY)).encode()
    not_json = b'{"tenant": "' + tenant.encode() + b'", "id": '
    bad_version = json.dumps(make_document("bad-version", SECURITY, version="one")).encode()
    good_after = json.dumps(make_document("after", HOTELS)).encode()
    oversized = json.dumps(make_document("oversized", "word " * 200_001)).encode()
    run(
        push_raw(
            stack.config.kafka_bootstrap,
            [
                (b"before", good_before),
                (b"broken", not_json),
                (b"bad-version", bad_version),
                (b"oversized", oversized),
                (b"after", good_after),
            ],
        )
    )
    run(
        wait_for_indexed(
            stack.config.kafka_bootstrap, {(tenant, "before", 0), (tenant, "after", 0)}
        )
    )

    dead = run(
        read_dead_letters(
            stack.config.kafka_bootstrap,
            topics.DOCUMENTS_SUBMITTED_DEAD_LETTER,
            {b"broken", b"bad-version", b"oversized"},
        )
    )
    assert dead[b"oversized"]["headers"]["x-error-reason"].startswith("text:")
    assert dead[b"broken"]["headers"]["x-error-type"] == "invalid_json"
    assert dead[b"broken"]["value"] == not_json  # the original bytes, unchanged
    assert dead[b"bad-version"]["headers"]["x-error-type"] == "schema_violation"
    assert "version" in dead[b"bad-version"]["headers"]["x-error-reason"]
    assert dead[b"bad-version"]["headers"]["x-original-topic"] == topics.DOCUMENTS_SUBMITTED
    assert {p.document_id for p in _search(assistant, principal, "hotel MFA")} == {
        "before",
        "after",
    }


def test_redelivery_updates_and_deletes_leave_exactly_the_current_version(
    stack, assistant, principal, tenant, make_document
):
    bootstrap = stack.config.kafka_bootstrap
    long_text = "\n\n".join(f"Paragraph {i}: " + "robot arm maintenance " * 60 for i in range(6))
    v1 = make_document("manual", long_text, version=1)
    run(push_documents(bootstrap, [v1, v1]))  # the same message delivered twice
    first = run(wait_for_indexed(bootstrap, {(tenant, "manual", 1)}))[(tenant, "manual", 1)]
    assert first.chunk_count > 2
    hits = _search(assistant, principal, "robot arm maintenance", top_k=100)
    assert len(hits) == first.chunk_count
    assert len({h.chunk_id for h in hits}) == len(hits)

    run(push_documents(bootstrap, [make_document("manual", "Short robot arm note.", version=2)]))
    run(wait_for_indexed(bootstrap, {(tenant, "manual", 2)}))
    hits = _search(assistant, principal, "robot arm", top_k=100)
    assert [(h.text, h.document_version) for h in hits] == [("Short robot arm note.", 2)]

    # An older version arriving late is ignored; a delete then removes everything.
    run(
        push_documents(
            bootstrap, [v1, {"tenant": tenant, "id": "manual", "operation": "delete", "version": 3}]
        )
    )
    seen = run(wait_for_indexed(bootstrap, {(tenant, "manual", 3)}))
    # Same key, same partition: the late v1 was confirmed before the delete, and replaced
    # the first v1 confirmation in `seen`.
    assert seen[(tenant, "manual", 1)].status is IndexStatus.STALE_IGNORED
    assert seen[(tenant, "manual", 3)].status is IndexStatus.DELETED
    assert _search(assistant, principal, "robot arm") == []


def test_documents_submitted_over_grpc_join_the_same_path(
    stack, assistant, ingestion, principal, tenant
):
    response = ingestion.SubmitDocument(
        ingestion_pb2.SubmitDocumentRequest(
            principal=principal,
            document=ingestion_pb2.Document(
                id="grpc-doc",
                title="Parental leave",
                text="Parents get 20 weeks of paid leave.",
                version=1,
            ),
        ),
        timeout=10,
    )
    assert response.topic == topics.DOCUMENTS_SUBMITTED and response.offset >= 0
    run(wait_for_indexed(stack.config.kafka_bootstrap, {(tenant, "grpc-doc", 1)}))
    assert (
        _search(assistant, principal, "paid parental leave weeks", top_k=1)[0].document_id
        == "grpc-doc"
    )

    with pytest.raises(grpc.RpcError) as bad:
        ingestion.SubmitDocument(
            ingestion_pb2.SubmitDocumentRequest(
                principal=principal, document=ingestion_pb2.Document(id="no text")
            ),
            timeout=10,
        )
    assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT

    deleted = ingestion.DeleteDocument(
        ingestion_pb2.DeleteDocumentRequest(principal=principal, document_id="grpc-doc", version=2),
        timeout=10,
    )
    assert deleted.document_id == "grpc-doc"
    gone = run(wait_for_indexed(stack.config.kafka_bootstrap, {(tenant, "grpc-doc", 2)}))
    assert gone[(tenant, "grpc-doc", 2)].status is IndexStatus.DELETED
    assert _search(assistant, principal, "paid parental leave weeks") == []


def test_access_groups_are_enforced_by_the_index(
    stack, assistant, principal, tenant, make_document
):
    run(
        push_documents(
            stack.config.kafka_bootstrap,
            [
                make_document(
                    "roadmap",
                    "The secret robot roadmap ships the RX-9 gripper in May.",
                    access_groups=["engineering"],
                ),
            ],
        )
    )
    run(wait_for_indexed(stack.config.kafka_bootstrap, {(tenant, "roadmap", 0)}))
    assert _search(assistant, principal, "RX-9 gripper roadmap") == []
    engineer = common_pb2.Principal(tenant=tenant, user_id="eng", groups=["engineering"])
    assert [p.document_id for p in _search(assistant, engineer, "RX-9 gripper roadmap")] == [
        "roadmap"
    ]
    other_tenant = common_pb2.Principal(tenant=tenant + "x", groups=["engineering"])
    assert _search(assistant, other_tenant, "RX-9 gripper roadmap") == []


def test_metadata_filters_narrow_the_search(stack, assistant, principal, tenant, make_document):
    run(
        push_documents(
            stack.config.kafka_bootstrap,
            [
                make_document(
                    "hr-leave", "Annual leave is 25 days.", metadata={"department": "hr"}
                ),
                make_document(
                    "it-leave",
                    "Leave your laptop locked; annual audits check it.",
                    metadata={"department": "it"},
                ),
            ],
        )
    )
    run(
        wait_for_indexed(
            stack.config.kafka_bootstrap, {(tenant, "hr-leave", 0), (tenant, "it-leave", 0)}
        )
    )
    everything = {p.document_id for p in _search(assistant, principal, "annual leave")}
    assert everything == {"hr-leave", "it-leave"}
    only_it = assistant.Search(
        assistant_pb2.SearchRequest(
            principal=principal, query="annual leave", filters={"department": "it"}
        ),
        timeout=20,
    ).passages
    assert [(p.document_id, p.metadata["department"]) for p in only_it] == [("it-leave", "it")]
