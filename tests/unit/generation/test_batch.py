"""Batch jobs, the pure parts: contracts, expansion, admission, totals, failure classes."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import grpc
import pytest
from pydantic import ValidationError

from contracts import (
    BatchItemAnswered,
    BatchItemKind,
    BatchItemStatus,
    BatchJobSubmitted,
    BatchUsage,
    job_item_key,
    job_result_id,
)
from contracts.rpc import assistant_pb2, common_pb2
from generation_service.batch.gate import LiveAssistant, LivePriorityGate
from generation_service.batch.runner import BatchRunner
from generation_service.core.batch import (
    AdmissionPolicy,
    ItemOutcome,
    ListedDocument,
    expand_questions,
    expand_summaries,
    job_fingerprint,
    job_totals,
    may_start,
    unique_items,
)
from platform_grpc import DependencyUnavailable, InvalidArgument
from platform_kafka import PoisonMessage, decode_event


def _job(**fields: object) -> BatchJobSubmitted:
    return BatchJobSubmitted.model_validate(
        {"job_id": "job-1", "tenant": "acme", **fields}, strict=True
    )


# -- contract -----------------------------------------------------------------------


def test_a_job_has_questions_or_summaries_never_both_or_neither() -> None:
    with pytest.raises(ValidationError, match="not both"):
        _job()
    with pytest.raises(ValidationError, match="not both"):
        _job(questions=[{"question": "q?"}], summarise_documents=True)
    assert _job(summarise_documents=True).summarise_documents


def test_item_ids_are_the_callers_or_the_index_and_must_be_unique() -> None:
    job = _job(questions=[{"question": "a"}, {"id": "x", "question": "b"}, {"question": "c"}])
    assert job.item_ids() == ["0", "x", "2"]
    with pytest.raises(ValidationError, match="unique"):
        _job(questions=[{"question": "a"}, {"id": "0", "question": "b"}])


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        (b"", "invalid_json"),
        (b"{not json", "invalid_json"),
        (
            b'{"job_id": "j", "tenant": "acme", "questions": [{"question": "q"}], "top_k": "3"}',
            "schema_violation",
        ),
        (
            b'{"job_id": "a b", "tenant": "acme", "questions": [{"question": "q"}]}',
            "schema_violation",
        ),
        (b'{"job_id": "j", "tenant": "acme", "questions": [{"question": ""}]}', "schema_violation"),
        (b'{"job_id": "j", "tenant": "acme", "questions": [], "extra": 1}', "schema_violation"),
    ],
)
def test_bad_jobs_are_poison_with_a_class(body: bytes, error_type: str) -> None:
    with pytest.raises(PoisonMessage) as caught:
        decode_event(body, BatchJobSubmitted)
    assert caught.value.error_type == error_type


def test_result_keys_and_ids_are_deterministic_per_job_and_item() -> None:
    assert job_item_key("j", "7") == "j/7"
    assert job_result_id("j", "7") == job_result_id("j", "7")
    assert job_result_id("j", "7") != job_result_id("j", "8")
    assert job_result_id("j", "7") != job_result_id("k", "7")


# -- expansion ----------------------------------------------------------------------


def test_questions_expand_to_one_item_each_the_same_every_time() -> None:
    job = _job(questions=[{"question": f"q{n}?"} for n in range(5)], top_k=3, groups=["hr"])
    items = expand_questions(job)
    assert [i.item_id for i in items] == ["0", "1", "2", "3", "4"]
    assert {i.total for i in items} == {5}
    assert items[2].question == "q2?" and items[2].top_k == 3 and items[2].groups == ["hr"]
    assert expand_questions(job) == items  # a redelivered job queues the same items


def test_summaries_expand_per_document_in_id_order_whatever_the_listing_order() -> None:
    job = _job(summarise_documents=True)
    docs = [ListedDocument("b/2", "Beta"), ListedDocument("a", ""), ListedDocument("b/2", "Beta")]
    items = expand_summaries(job, docs)
    assert [i.document_id for i in items] == ["a", "b/2"]
    assert {i.kind for i in items} == {BatchItemKind.SUMMARY}
    assert items[1].question == "Summarise Beta."
    assert items[0].question == "Summarise a."
    assert "/" not in items[1].item_id  # item ids name Kafka and Redis keys
    assert expand_summaries(job, list(reversed(docs))) == items


def test_the_fingerprint_tells_a_replay_from_a_reused_id() -> None:
    one = _job(questions=[{"question": "a"}])
    assert job_fingerprint(one) == job_fingerprint(_job(questions=[{"question": "a"}]))
    assert job_fingerprint(one) != job_fingerprint(_job(questions=[{"question": "b"}]))


def test_duplicate_items_in_one_fetch_are_answered_once() -> None:
    items = expand_questions(_job(questions=[{"question": "a"}, {"question": "b"}]))
    assert unique_items([*items, *items, items[0]]) == items


# -- admission -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("live", "batch", "waited_s", "live_idle_s", "expected"),
    [
        (0, 0, 0.0, 9.0, True),  # idle: batch runs
        (0, 3, 0.0, 9.0, True),  # idle: up to the concurrency
        (0, 4, 0.0, 9.0, False),  # full
        (0, 0, 0.0, 0.1, False),  # a live ask just ended: the next may follow at once
        (0, 0, 0.0, 0.25, True),  # quiet long enough
        (1, 0, 0.0, 9.0, False),  # a live ask in flight: batch waits
        (1, 0, 29.9, 9.0, False),
        (1, 0, 30.0, 0.0, True),  # waited long enough: one item may run
        (1, 1, 60.0, 0.0, False),  # but only one at a time while live asks run
        (0, 1, 60.0, 0.0, False),
        (5, 0, 31.0, 0.0, True),
    ],
)
def test_live_asks_come_first(
    live: int, batch: int, waited_s: float, live_idle_s: float, expected: bool
) -> None:
    policy = AdmissionPolicy(concurrency=4, idle_after_s=0.25, max_wait_s=30.0)
    assert (
        may_start(live=live, batch=batch, waited_s=waited_s, live_idle_s=live_idle_s, policy=policy)
        is expected
    )


def test_the_gate_holds_batch_items_while_a_live_ask_runs() -> None:
    async def scenario() -> None:
        gate = LivePriorityGate(AdmissionPolicy(concurrency=2, idle_after_s=0.1, max_wait_s=60.0))
        started: list[str] = []
        release_live = asyncio.Event()

        async def live() -> None:
            async with gate.live():
                await release_live.wait()

        async def item(name: str) -> None:
            async with gate.batch_slot():
                started.append(name)
                await asyncio.sleep(0.5)

        live_task = asyncio.create_task(live())
        await asyncio.sleep(0)
        items = [asyncio.create_task(item(str(n))) for n in range(3)]
        await asyncio.sleep(0.2)
        assert started == []  # held behind the live ask
        release_live.set()
        await live_task
        await asyncio.sleep(0.02)
        assert started == []  # the live caller may ask again at once: still held
        await asyncio.sleep(0.15)
        assert len(started) == 2  # then two at a time
        await asyncio.gather(*items)
        assert sorted(started) == ["0", "1", "2"]
        assert gate.batch_in_flight == 0 and gate.live_in_flight == 0

    asyncio.run(scenario())


def test_a_batch_item_is_never_starved_by_steady_live_traffic() -> None:
    async def scenario() -> None:
        gate = LivePriorityGate(AdmissionPolicy(concurrency=4, max_wait_s=0.3))
        async with gate.live():
            async with gate.batch_slot() as waited_s:
                assert waited_s >= 0.3
                assert gate.batch_in_flight == 1

    asyncio.run(asyncio.wait_for(scenario(), 5))


# -- totals ----------------------------------------------------------------------------


def _result(
    status: BatchItemStatus, *, cost: float = 0.0, cached: bool = False
) -> BatchItemAnswered:
    return BatchItemAnswered(
        result_id="r",
        job_id="j",
        item_id="1",
        index=0,
        tenant="acme",
        kind=BatchItemKind.QUESTION,
        question="q",
        status=status,
        cached=cached,
        usage=BatchUsage(prompt_tokens=10, completion_tokens=5, cost_usd=cost),
    )


def test_totals_sum_the_outcomes_and_survive_storage() -> None:
    outcomes = [
        ItemOutcome.loads(ItemOutcome.of(r).dumps())
        for r in (
            _result(BatchItemStatus.ANSWERED, cost=0.001),
            _result(BatchItemStatus.ANSWERED, cost=0.0020004, cached=True),
            _result(BatchItemStatus.FAILED),
        )
    ]
    totals = job_totals(outcomes)
    assert (totals.items, totals.answered, totals.failed, totals.cached) == (3, 2, 1, 1)
    assert (totals.prompt_tokens, totals.completion_tokens) == (30, 15)
    assert totals.cost_usd == 0.003


# -- failure classes of one item ----------------------------------------------------------


class _Flaky:
    """An ask flow that fails as told, then answers."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0
        self.prompts = SimpleNamespace(resolve=lambda _: object(), known=lambda: "")

    async def ask(self, ask: object) -> assistant_pb2.AskResponse:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return assistant_pb2.AskResponse(
            answer_id="a-1",
            answer="25 days [1]",
            citations=[common_pb2.Citation(marker=1, chunk_id="c", document_id="d")],
            usage=common_pb2.Usage(prompt_tokens=7, completion_tokens=3, cost_usd=0.5, model="m"),
            prompt_version="extractive@1",
        )


def _runner(flow: _Flaky) -> BatchRunner:
    return BatchRunner(
        broker=None,  # type: ignore[arg-type] - _answer publishes nothing
        assistant=flow,
        ledger=None,  # type: ignore[arg-type]
        gate=LivePriorityGate(AdmissionPolicy()),
        documents=None,
        default_top_k=5,
        default_prompt="production",
        item_attempts=3,
    )


def _item() -> object:
    return expand_questions(_job(questions=[{"question": "How many days?"}]))[0]


class _RpcError(grpc.aio.AioRpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="peer says no")


def test_an_answer_becomes_a_result_with_citations_usage_and_cost() -> None:
    result = asyncio.run(_runner(_Flaky())._answer(_item()))
    assert result.status is BatchItemStatus.ANSWERED
    assert result.result_id == job_result_id("job-1", "0")
    assert result.citations[0].chunk_id == "c"
    assert (result.usage.prompt_tokens, result.usage.cost_usd) == (7, 0.5)


def test_a_request_the_flow_refuses_fails_the_item_at_once_with_its_reason() -> None:
    flow = _Flaky(InvalidArgument.field("question", "too long"))
    result = asyncio.run(_runner(flow)._answer(_item()))
    assert (result.status, result.error_type, flow.calls) == (
        BatchItemStatus.FAILED,
        "invalid_argument",
        1,
    )
    assert "too long" in result.error_reason
    flow = _Flaky(_RpcError(grpc.StatusCode.PERMISSION_DENIED))
    result = asyncio.run(_runner(flow)._answer(_item()))
    assert (result.error_type, result.error_reason) == ("permission_denied", "peer says no")


@pytest.mark.parametrize(
    "outage",
    [DependencyUnavailable("retrieval: down"), _RpcError(grpc.StatusCode.UNAVAILABLE)],
)
def test_an_outage_is_raised_for_the_consumer_to_wait_out(outage: BaseException) -> None:
    with pytest.raises(DependencyUnavailable):
        asyncio.run(_runner(_Flaky(outage))._answer(_item()))


def test_other_errors_are_retried_then_reported() -> None:
    flow = _Flaky(RuntimeError("blip"), RuntimeError("blip"))
    assert asyncio.run(_runner(flow)._answer(_item())).status is BatchItemStatus.ANSWERED
    flow = _Flaky(*(RuntimeError("broken") for _ in range(3)))
    result = asyncio.run(_runner(flow)._answer(_item()))
    assert (result.error_type, flow.calls) == ("handler_error", 3)
    assert "RuntimeError: broken" in result.error_reason


def test_live_asks_through_the_servicer_are_counted_while_they_run() -> None:
    async def scenario() -> None:
        gate = LivePriorityGate(AdmissionPolicy())
        seen: list[int] = []

        class Flow:
            prompts = "the assistant's own"

            async def ask(self, ask: object) -> str:
                seen.append(gate.live_in_flight)
                return "answer"

            async def ask_stream(self, ask: object):
                seen.append(gate.live_in_flight)
                yield "delta"
                seen.append(gate.live_in_flight)
                yield "answer"

        live = LiveAssistant(Flow(), gate)  # type: ignore[arg-type]
        assert await live.ask(None) == "answer"  # type: ignore[arg-type]
        assert [e async for e in live.ask_stream(None)] == ["delta", "answer"]  # type: ignore[arg-type]
        assert seen == [1, 1, 1]
        assert gate.live_in_flight == 0
        assert live.prompts == "the assistant's own"  # everything else passes through

    asyncio.run(scenario())
