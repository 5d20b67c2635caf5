"""Only what changed goes to the engine; backfills never starve live documents; a crash
mid-backfill loses and duplicates nothing. On the real broker, Triton and index."""

from __future__ import annotations

import json
import time

import pytest
import tritonclient.grpc as triton_grpc

from contracts import IndexStatus, topics
from contracts.rpc import assistant_pb2
from platform_stack.documents import push_documents, push_raw, run, wait_for_indexed

pytestmark = pytest.mark.integration

_MODEL = "text_embedding"


def _texts_embedded(stack) -> int:
    """Texts the engine has embedded since Triton started (its own statistics)."""
    client = triton_grpc.InferenceServerClient(stack.config.address("triton"))
    try:
        stats = client.get_inference_statistics(model_name=_MODEL, as_json=True)
    finally:
        client.close()
    return sum(int(m.get("inference_count", 0)) for m in stats["model_stats"])


def _manual(n: int, *, edited_section: int | None = None) -> str:
    sections = []
    for s in range(4):
        paragraphs = [
            f"Manual {n} section {s} paragraph {p}: the controller's torque limit for axis {p} "
            f"is set in register R{n}{s}{p} and checked at every start-up of the arm."
            for p in range(6)
        ]
        if s == edited_section:
            paragraphs[2] = "This paragraph was rewritten: the register moved to the EEPROM."
        sections.append(f"## Section {s}\n\n" + "\n\n".join(paragraphs))
    return f"# Manual {n}\n\n" + "\n\n".join(sections)


def test_an_unchanged_reingest_makes_no_engine_call_and_an_edit_reembeds_only_its_chunks(
    stack, tenant, make_document
):
    bootstrap = stack.config.kafka_bootstrap
    docs = [make_document(f"manual-{n}", _manual(n), media_type="text/markdown") for n in range(3)]
    keys = {(tenant, d["id"], 0) for d in docs}
    run(push_documents(bootstrap, docs))
    first = run(wait_for_indexed(bootstrap, keys))
    chunks = {key: first[key].chunk_count for key in keys}
    assert all(count >= 4 for count in chunks.values())  # one section at least each

    # The same corpus again, as a producer's nightly re-send would: a new version, same text.
    before = _texts_embedded(stack)
    resent = [{**d, "version": 1} for d in docs]
    again = run(wait_for_indexed_after_push(bootstrap, resent, tenant, version=1))
    assert _texts_embedded(stack) == before, "an unchanged corpus reached the engine"
    for (_, doc_id, _), event in again.items():
        assert event.status is IndexStatus.INDEXED
        assert event.reused_chunks == event.chunk_count == chunks[(tenant, doc_id, 0)]

    # One paragraph of one section edited: only that section's chunks are embedded again.
    before = _texts_embedded(stack)
    edited = {
        **docs[1],
        "version": 2,
        "text": _manual(1, edited_section=2),
    }
    (event,) = run(wait_for_indexed_after_push(bootstrap, [edited], tenant, version=2)).values()
    reembedded = event.chunk_count - event.reused_chunks
    assert 1 <= reembedded < event.chunk_count
    assert _texts_embedded(stack) - before == reembedded


async def wait_for_indexed_after_push(bootstrap, docs, tenant, *, version):
    """Push `docs` and return their confirmations (of this version only)."""
    await push_documents(bootstrap, docs)
    expected = {(tenant, d["id"], version) for d in docs}
    confirmed = await wait_for_indexed(bootstrap, expected)
    return {key: confirmed[key] for key in expected}


def test_a_backfill_never_holds_up_a_live_document(stack, tenant, make_document):
    bootstrap = stack.config.kafka_bootstrap
    backfill = [
        make_document(f"archive-{n}", _manual(n), media_type="text/markdown") for n in range(120)
    ]
    run(
        push_raw(
            bootstrap,
            ((d["id"].encode(), json.dumps(d).encode()) for d in backfill),
            topic=topics.DOCUMENTS_BACKFILL,
        )
    )
    live = make_document("urgent-recall", "Stop using charger model C-7 at once.", version=5)
    pushed_at = time.monotonic()
    run(push_documents(bootstrap, [live]))
    live_key = (tenant, "urgent-recall", 5)
    live_event = run(wait_for_indexed(bootstrap, {live_key}, timeout_s=120))[live_key]
    live_s = time.monotonic() - pushed_at
    expected = {(tenant, d["id"], 0) for d in backfill}
    confirmed = run(wait_for_indexed(bootstrap, expected, timeout_s=600))
    indexed = {key: confirmed[key] for key in expected}
    backfill_s = time.monotonic() - pushed_at
    confirmed_before_live = sum(
        1 for e in indexed.values() if e.indexed_at <= live_event.indexed_at
    )
    # The live document waited behind at most the admitted backlog, not the whole load.
    assert confirmed_before_live < len(backfill) / 2, (live_s, backfill_s)
    assert live_s < backfill_s / 2


@pytest.mark.parametrize("victim", ["ingestion", "embedding"])
def test_a_service_killed_mid_backfill_ends_with_every_document_indexed_once(
    own_stack, assistant, principal, tenant, make_document, victim
):
    stack = own_stack
    bootstrap = stack.config.kafka_bootstrap
    docs = [
        make_document(
            f"sop-{n}",
            "\n\n".join(
                f"Procedure sop{n}marker step {s}: isolate the line, then verify pressure "
                f"gauge {s} reads zero before opening valve {n}-{s}." * 3
                for s in range(5)
            ),
        )
        for n in range(40)
    ]
    run(
        push_raw(
            bootstrap,
            ((d["id"].encode(), json.dumps(d).encode()) for d in docs),
            topic=topics.DOCUMENTS_BACKFILL,
        )
    )
    stack.stop_component(victim, crash=True)
    stack.start_component(victim, timeout_s=120)
    expected = {(tenant, d["id"], 0) for d in docs}
    indexed = run(wait_for_indexed(bootstrap, expected, timeout_s=300))
    assert {indexed[key].status for key in expected} == {IndexStatus.INDEXED}

    for n in (0, 17, 39):  # count and content, document by document
        passages = assistant.Search(
            assistant_pb2.SearchRequest(principal=principal, query=f"sop{n}marker", top_k=100),
            timeout=30,
        ).passages
        own = [p for p in passages if p.document_id == f"sop-{n}"]
        assert len(own) == indexed[(tenant, f"sop-{n}", 0)].chunk_count
        assert len({p.chunk_index for p in own}) == len(own)
        assert all(f"sop{n}marker" in p.text for p in own)
