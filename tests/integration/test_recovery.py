"""A service killed mid-ingest (SIGKILL, no goodbye) loses nothing and duplicates nothing."""

from __future__ import annotations

import pytest

from contracts import IndexStatus
from contracts.rpc import assistant_pb2
from platform_stack.documents import push_documents, run, wait_for_indexed

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("victim", ["embedding", "ingestion", "retrieval"])
def test_a_crashed_consumer_resumes_from_its_last_commit(
    own_stack, assistant, principal, tenant, make_document, victim
):
    stack = own_stack
    bootstrap = stack.config.kafka_bootstrap
    docs = [
        make_document(
            f"manual-{n}",
            "\n\n".join(
                f"Section {s} of manual {n}: calibrate the gripper torque sensor " * 12
                for s in range(4)
            ),
            version=1,
        )
        for n in range(24)
    ]
    run(push_documents(bootstrap, docs))
    # Crash while the batch is in flight: whatever was processed but not committed is redone.
    stack.stop_component(victim, crash=True)
    stack.start_component(victim, timeout_s=120)
    expected = {(tenant, d["id"], 1) for d in docs}
    indexed = run(wait_for_indexed(bootstrap, expected, timeout_s=180))
    assert {indexed[key].status for key in expected} == {IndexStatus.INDEXED}
    chunks = sum(indexed[key].chunk_count for key in expected)

    passages = assistant.Search(
        assistant_pb2.SearchRequest(
            principal=principal, query="calibrate gripper torque sensor", top_k=100
        ),
        timeout=30,
    ).passages
    assert len(passages) == min(chunks, 100)
    # One point per (document, chunk): redelivered work overwrote, it did not add.
    assert len({(p.document_id, p.chunk_index) for p in passages}) == len(passages)
    assert len({p.chunk_id for p in passages}) == len(passages)
