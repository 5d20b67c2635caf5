"""Model answers on the real stack: SmolLM2 on Triton through the grounded@1 prompt.

Streaming, citations that name chunks in the model's context, pinned prompt versions and
labels, "not found" without a model call, the cache retired by a cited document's update,
usage summed per tenant, and asks answered while Redis is down.
"""

from __future__ import annotations

import dataclasses
import re
import time

import grpc
import pytest
import redis

from contracts.rpc import assistant_pb2
from platform_stack.config import free_port
from platform_stack.documents import push_documents, run, wait_for_indexed
from platform_stack.redis_server import ensure_redis

pytestmark = pytest.mark.integration

LLM = "grounded@1"
TRAVEL = (
    "<h1>Travel and expenses</h1><h2>Hotels</h2><p>Hotel stays are capped at USD 325 per night "
    "in high-cost cities such as London.</p><h2>Meals</h2><p>The daily meal allowance is USD 75.</p>"
)
QUESTION = "What is the hotel cap per night in London?"
DEADLINE_S = 120
_MARKER = re.compile(r"\[(\d+)\]")


@pytest.fixture
def indexed_tenant(stack, tenant, make_document) -> str:
    run(
        push_documents(
            stack.config.kafka_bootstrap,
            [make_document("travel", TRAVEL, media_type="text/html")],
        )
    )
    run(wait_for_indexed(stack.config.kafka_bootstrap, {(tenant, "travel", 0)}))
    return tenant


def _ask(principal, question: str = QUESTION, **fields: object) -> assistant_pb2.AskRequest:
    fields.setdefault("prompt_version", LLM)
    return assistant_pb2.AskRequest(principal=principal, question=question, **fields)


def _stream(assistant, request) -> tuple[list[str], assistant_pb2.AskResponse]:
    deltas: list[str] = []
    completed = None
    for event in assistant.AskStream(request, timeout=DEADLINE_S):
        if event.HasField("completed"):
            completed = event.completed
        else:
            assert completed is None, "a delta after the final event"
            deltas.append(event.delta)
    assert completed is not None
    return deltas, completed


def test_streamed_model_answer_cites_only_chunks_it_was_given(
    assistant, principal, indexed_tenant
) -> None:
    context = assistant.Search(
        assistant_pb2.SearchRequest(principal=principal, query=QUESTION, top_k=5), timeout=30
    )
    context_ids = {p.chunk_id for p in context.passages}
    deltas, answer = _stream(assistant, _ask(principal, bypass_cache=True))
    assert answer.prompt_version == LLM and answer.route == "documents"
    # Tokens arrived one by one, and the final event repeats exactly what was streamed.
    assert len(deltas) > 3
    if not answer.retracted:
        assert "".join(deltas).strip() == answer.answer
        markers = {int(m) for m in _MARKER.findall(answer.answer)}
        assert markers == {c.marker for c in answer.citations}
        assert all(c.chunk_id in context_ids for c in answer.citations)
    else:  # stopped by the output guardrail: a reason, never a silent cut
        assert answer.guardrail_flags
    assert answer.usage.model == "text_generation"
    assert answer.usage.prompt_tokens > 50 and answer.usage.completion_tokens > 0
    assert answer.usage.cost_usd == 0.0  # a local model: no price configured
    timings = answer.timings
    assert timings.HasField("time_to_first_token_ms") and timings.HasField("before_model_ms")
    assert 0 < timings.before_model_ms < timings.time_to_first_token_ms <= timings.total_ms


def test_pinned_version_and_label_are_honoured_and_unknown_ones_list_what_exists(
    assistant, principal, indexed_tenant
) -> None:
    listed = assistant.ListPrompts(assistant_pb2.ListPromptsRequest(), timeout=10)
    labels = {p.version: list(p.labels) for p in listed.prompts}
    assert labels["extractive@1"] == ["production"] and labels[LLM] == ["canary"]
    assert {p.version: p.engine for p in listed.prompts}[LLM] == "triton"

    pinned = assistant.Ask(_ask(principal, prompt_version="extractive@1"), timeout=DEADLINE_S)
    assert pinned.prompt_version == "extractive@1" and pinned.usage.model == "extractive@1"
    default = assistant.Ask(_ask(principal, prompt_version=""), timeout=DEADLINE_S)
    assert default.prompt_version == "extractive@1"  # the production label
    canary = assistant.Ask(_ask(principal, prompt_version="canary"), timeout=DEADLINE_S)
    assert canary.prompt_version == LLM and canary.usage.model == "text_generation"

    with pytest.raises(grpc.RpcError) as failure:
        assistant.Ask(_ask(principal, prompt_version="grounded@9"), timeout=10)
    assert failure.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "grounded@1" in failure.value.details() and "canary" in failure.value.details()


def test_nothing_found_says_so_without_calling_the_model(assistant, principal) -> None:
    answer = assistant.Ask(_ask(principal, question="Who won the 1954 World Cup?"), timeout=30)
    assert answer.answer == "Not found in your documents."
    assert not answer.citations
    assert answer.usage.prompt_tokens == 0 and answer.usage.completion_tokens == 0
    assert not answer.timings.HasField("time_to_first_token_ms")


def test_cited_documents_update_retires_the_cached_model_answer(
    stack, assistant, principal, tenant, make_document
) -> None:
    bootstrap = stack.config.kafka_bootstrap
    # One short passage: whatever the toy model writes about it, it can only cite [1].
    run(push_documents(bootstrap, [make_document("perks", "The gym subsidy is USD 40 a month.")]))
    run(wait_for_indexed(bootstrap, {(tenant, "perks", 0)}))
    request = _ask(principal, question="What is the gym subsidy?")
    first = assistant.Ask(request, timeout=DEADLINE_S)
    assert not first.cached and not first.retracted, first.guardrail_flags
    assert [c.document_id for c in first.citations] in ([], ["perks"])
    again = assistant.Ask(request, timeout=DEADLINE_S)
    assert again.cached and again.answer_id == first.answer_id

    updated = make_document("perks", "The gym subsidy is USD 55 a month.", version=1)
    run(push_documents(bootstrap, [updated]))
    run(wait_for_indexed(bootstrap, {(tenant, "perks", 1)}))
    deadline = time.monotonic() + 30
    while True:  # the generation service hears of the change through Kafka too
        fresh = assistant.Ask(request, timeout=DEADLINE_S)
        if not fresh.cached or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not fresh.cached and fresh.answer_id != first.answer_id


def test_a_cited_passage_comes_with_its_neighbours_only_for_its_tenant(
    stack, assistant, principal, tenant, make_document
) -> None:
    sections = "".join(
        f"<h2>Part {n}</h2><p>Rule {n} of the handbook applies.</p>" for n in range(3)
    )
    run(
        push_documents(
            stack.config.kafka_bootstrap,
            [make_document("handbook", f"<h1>Handbook</h1>{sections}", media_type="text/html")],
        )
    )
    run(wait_for_indexed(stack.config.kafka_bootstrap, {(tenant, "handbook", 0)}))
    found = assistant.Search(
        assistant_pb2.SearchRequest(principal=principal, query="handbook rule", top_k=10),
        timeout=30,
    )
    by_index = {p.chunk_index: p for p in found.passages}
    assert len(by_index) >= 3, "the document should have several chunks"
    middle = by_index[sorted(by_index)[1]]
    got = assistant.GetPassage(
        assistant_pb2.GetPassageRequest(principal=principal, chunk_id=middle.chunk_id), timeout=10
    )
    assert got.passage.chunk_id == middle.chunk_id and got.passage.text == middle.text
    assert got.previous.chunk_index == middle.chunk_index - 1
    assert got.next.chunk_index == middle.chunk_index + 1
    assert got.previous.document_id == got.next.document_id == "handbook"
    first = assistant.GetPassage(
        assistant_pb2.GetPassageRequest(
            principal=principal, chunk_id=by_index[min(by_index)].chunk_id
        ),
        timeout=10,
    )
    assert not first.HasField("previous") and first.HasField("next")

    stranger = assistant_pb2.GetPassageRequest(
        principal=principal.__class__(tenant="tother00000000", user_id="u"),
        chunk_id=middle.chunk_id,
    )
    with pytest.raises(grpc.RpcError) as failure:
        assistant.GetPassage(stranger, timeout=10)
    assert failure.value.code() is grpc.StatusCode.NOT_FOUND


def test_usage_is_summed_per_tenant(stack, assistant, principal, indexed_tenant) -> None:
    answers = [
        assistant.Ask(_ask(principal, bypass_cache=True), timeout=DEADLINE_S) for _ in range(2)
    ]
    totals = redis.Redis.from_url(stack.config.redis_url).hgetall(f"genai:usage:{indexed_tenant}")
    assert int(totals[b"answers"]) == 2
    assert int(totals[b"prompt_tokens"]) == sum(a.usage.prompt_tokens for a in answers)
    assert int(totals[b"completion_tokens"]) == sum(a.usage.completion_tokens for a in answers)
    assert float(totals[b"cost_usd"]) == 0.0


def test_asks_are_answered_while_redis_is_down(own_stack, assistant, principal, indexed_tenant):
    # The shared Redis serves other tests: generation is moved to a Redis of its own, which
    # this test stops, and moved back after.
    shared = own_stack.config
    private = dataclasses.replace(shared, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    redis_process = ensure_redis(private, tie_to_parent=True)
    assert redis_process is not None
    try:
        own_stack.config = private
        own_stack.stop_component("generation")
        own_stack.start_component("generation")
        before = assistant.Ask(_ask(principal), timeout=DEADLINE_S)
        assert not before.cached
        redis_process.stop()
        during = assistant.Ask(_ask(principal), timeout=DEADLINE_S)
        assert during.answer and not during.cached
        assert during.usage.model == "text_generation"
        deltas, streamed = _stream(assistant, _ask(principal))
        assert deltas and streamed.answer
    finally:
        redis_process.stop()
        own_stack.config = shared
        own_stack.stop_component("generation")
        own_stack.start_component("generation")
