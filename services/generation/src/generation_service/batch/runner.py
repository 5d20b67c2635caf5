"""The batch runner: expands jobs into items and answers items through the live ask flow.

Order of writes for one item, each idempotent:

    answer (Assistant.ask, below live traffic) -> result on answers.results.v1 (acks=all,
    key job/item, result_id uuid5(job, item)) -> ledger: item done (Redis HSET)
    -> offset committed with its Kafka batch

A crash before the result is acknowledged redoes the item; a crash between the
acknowledgement and the ledger write (one Redis round trip, logged as `unmarked_ms`)
re-produces it with the same key and result id; a crash after it skips it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import grpc
from pydantic import ValidationError

from contracts import (
    BatchCitation,
    BatchItemAnswered,
    BatchItemStatus,
    BatchJobCompleted,
    BatchUsage,
    job_result_id,
    topics,
)
from generation_service.batch.ledger import JobIdReused
from generation_service.core import AskInput
from generation_service.core.batch import (
    ItemOutcome,
    ListedDocument,
    expand_questions,
    expand_summaries,
    items_by_job,
    job_fingerprint,
    job_totals,
    unique_items,
)
from platform_grpc import DependencyUnavailable, PlatformError
from platform_kafka import PoisonMessage, describe_exception
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence

    from faststream.kafka import KafkaBroker

    from contracts import BatchItemQueued, BatchJobSubmitted
    from contracts.rpc import assistant_pb2
    from generation_service.batch.gate import LivePriorityGate
    from generation_service.batch.ledger import BatchLedger
    from generation_service.core import PromptRegistry

    #: Runs one piece of work under the consumer's failure policy: why it gave up, or None.
    Settle = Callable[[Callable[[], Awaitable[None]]], Awaitable[PoisonMessage | None]]

_log = get_logger(__name__)
#: gRPC codes of a peer that is down or slow: the item is fine, the consumer waits.
_OUTAGE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


class DocumentLister(Protocol):
    """Lists a tenant's documents (retrieval's ListDocuments)."""

    async def list_documents(self, tenant: str, groups: Sequence[str]) -> list[ListedDocument]:
        """Every document of `tenant` that `groups` may read."""
        ...


class AskFlow(Protocol):
    """The part of the Assistant a batch item uses."""

    @property
    def prompts(self) -> PromptRegistry:
        """Served prompt versions."""
        ...

    async def ask(self, ask: AskInput) -> assistant_pb2.AskResponse:
        """One answer."""
        ...


@dataclass
class BatchRunner:
    """Everything a batch job needs, built once in the lifespan."""

    broker: KafkaBroker
    assistant: AskFlow
    ledger: BatchLedger
    gate: LivePriorityGate
    documents: DocumentLister | None
    default_top_k: int
    default_prompt: str
    item_attempts: int = 3
    #: Items not started this long after a Kafka batch began are left for redelivery, so
    #: one fetch never runs into the consumer's handler timeout behind live traffic.
    start_budget_s: float = 60.0

    # -- jobs ----------------------------------------------------------------------

    async def expand(self, job: BatchJobSubmitted) -> None:
        """Queue one message per item of a valid job; an invalid one raises PoisonMessage."""
        prompt = job.prompt_version or self.default_prompt
        if self.assistant.prompts.resolve(prompt) is None:
            known = self.assistant.prompts.known()
            raise PoisonMessage("invalid_job", f"prompt_version: unknown {prompt!r}; {known}")
        if job.summarise_documents and self.documents is None:
            raise PoisonMessage("invalid_job", "summarise_documents: no document listing here")
        try:
            await self.ledger.claim(job.job_id, job_fingerprint(job))
        except JobIdReused as exc:
            raise PoisonMessage("invalid_job", f"job_id: {exc}") from exc
        if await self.ledger.is_completed(job.job_id):
            # A replay: nothing is redone, and the totals are told again (the same ones, from
            # the ledger), so whoever sent it again learns the job is complete.
            _log.info("batch_job_already_completed", job_id=job.job_id)
            await self._complete(job.job_id, tenant=job.tenant, total=0, again=True)
            return
        if job.summarise_documents:
            assert self.documents is not None  # checked above
            listed = await self.documents.list_documents(job.tenant, job.groups)
            items = expand_summaries(job, listed)
        else:
            items = expand_questions(job)
        if not items:
            await self._complete(job.job_id, tenant=job.tenant, total=0)
            return
        # Sent without waiting for each acknowledgement, then awaited together: the
        # producer batches them. A crash before all are acknowledged redelivers the job,
        # which queues the same items again (the item consumer skips finished ones).
        pending = [
            await self.broker.publish(
                item, topics.ANSWERS_JOB_ITEMS, key=job.job_id.encode(), no_confirm=True
            )
            for item in items
        ]
        await asyncio.gather(*pending)
        _log.info(
            "batch_job_queued",
            job_id=job.job_id,
            tenant=job.tenant,
            items=len(items),
            kind="summaries" if job.summarise_documents else "questions",
        )

    # -- items ---------------------------------------------------------------------

    async def run(self, items: Sequence[BatchItemQueued], settle: Settle) -> bool:
        """Answer the unfinished items; True when some were deferred (redeliver them).

        `settle` runs one piece of work under the consumer's failure policy (outages
        waited out with backoff, a timeout per attempt, bounded attempts): each item's
        answer is one piece, so a slow engine times out an item, never a whole fetch.
        """
        started = time.monotonic()
        deferred = False
        # A job queued twice (its expansion redone) can bring an item twice in one fetch.
        for job_id, job_items in items_by_job(unique_items(items)).items():
            done: set[str] = set()

            async def read_done(
                job_id: str = job_id,
                job_items: list[BatchItemQueued] = job_items,
                done: set[str] = done,
            ) -> None:
                done.update(await self.ledger.done_items(job_id, (i.item_id for i in job_items)))

            await _settled(settle, read_done)
            todo = [i for i in job_items if i.item_id not in done]
            if done:
                _log.info("batch_items_skipped", job_id=job_id, finished=len(done))
            results = await _all(self._answer_and_record(i, started, settle) for i in todo)
            deferred = deferred or not all(results)
            first = job_items[0]

            async def complete(item: BatchItemQueued = first) -> None:
                await self._complete_if_done(item)

            await _settled(settle, complete)
        return deferred

    async def _answer_and_record(
        self, item: BatchItemQueued, started: float, settle: Settle
    ) -> bool:
        answered: list[BatchItemAnswered] = []

        async def answer() -> None:
            answered.append(await self._answer(item))

        async with self.gate.batch_slot() as waited_s:
            if time.monotonic() - started > self.start_budget_s:
                return False
            failure = await settle(answer)
        result = (
            answered[-1] if failure is None else _failed(item, failure.error_type, failure.reason)
        )
        # One line per answer computed: a redone item shows twice.
        _log.info("batch_item_computed", job_id=item.job_id, item_id=item.item_id)

        async def record(result: BatchItemAnswered = result) -> None:
            await self._record(result, waited_s=waited_s)

        if (unpublished := await settle(record)) is not None:
            # The result itself cannot be published (too large?): its failure, small, can.
            failed = _failed(item, "result_not_published", unpublished.reason)

            async def record_failure() -> None:
                await self._record(failed, waited_s=waited_s)

            await _settled(settle, record_failure)
        return True

    async def _record(self, result: BatchItemAnswered, *, waited_s: float) -> None:
        await self.broker.publish(result, topics.ANSWERS_JOB_RESULTS, key=result.key.encode())
        acknowledged = time.perf_counter()
        await self.ledger.mark_done(result.job_id, result.item_id, ItemOutcome.of(result))
        _log.info(
            "batch_item_answered",
            job_id=result.job_id,
            item_id=result.item_id,
            status=result.status.value,
            cached=result.cached,
            cost_usd=result.usage.cost_usd,
            waited_ms=round(waited_s * 1000, 1),
            # The crash window: the result is out but not yet marked done.
            unmarked_ms=round((time.perf_counter() - acknowledged) * 1000, 3),
        )

    async def _answer(self, item: BatchItemQueued) -> BatchItemAnswered:
        """The item's result: an answer, or a failure with its reason; outages raise."""
        try:
            ask = AskInput(
                tenant=item.tenant,
                user_id=item.user_id,
                groups=item.groups,
                question=item.question,
                top_k=item.top_k or self.default_top_k,
                bypass_cache=item.bypass_cache,
                **_prompt_field(item.prompt_version, self.default_prompt),
            )
        except ValidationError as exc:
            return _failed(item, "invalid_item", _first_error(exc))
        for attempt in range(1, self.item_attempts + 1):
            mark = time.perf_counter()
            try:
                response = await self.assistant.ask(ask)
            except DependencyUnavailable:
                raise
            except PlatformError as exc:
                return _failed(item, _error_type(type(exc).__name__), str(exc))
            except grpc.aio.AioRpcError as exc:
                if exc.code() in _OUTAGE_CODES:
                    raise DependencyUnavailable(f"peer: {exc.code().name}") from exc
                return _failed(item, exc.code().name.lower(), exc.details() or "")
            except Exception as exc:  # noqa: BLE001 - classed: retried, then reported
                if attempt == self.item_attempts:
                    return _failed(item, "handler_error", describe_exception(exc))
                _log.warning(
                    "batch_item_attempt_failed",
                    job_id=item.job_id,
                    item_id=item.item_id,
                    attempt=attempt,
                    error=describe_exception(exc),
                )
                continue
            return _answered(item, response, duration_ms=(time.perf_counter() - mark) * 1000)
        raise AssertionError("unreachable: the last attempt returns")

    async def _complete_if_done(self, item: BatchItemQueued) -> None:
        await self._complete(item.job_id, tenant=item.tenant, total=item.total)

    async def _complete(self, job_id: str, *, tenant: str, total: int, again: bool = False) -> None:
        """Publish the completed event once every item is done (again after a crash)."""
        if not again and await self.ledger.is_completed(job_id):
            return
        outcomes = await self.ledger.outcomes(job_id)
        if len(outcomes) < total:
            return
        totals = job_totals(outcomes.values())
        event = BatchJobCompleted(
            job_id=job_id,
            tenant=tenant,
            items=totals.items,
            answered=totals.answered,
            failed=totals.failed,
            cached=totals.cached,
            prompt_tokens=totals.prompt_tokens,
            completion_tokens=totals.completion_tokens,
            cost_usd=totals.cost_usd,
        )
        await self.broker.publish(event, topics.ANSWERS_JOB_COMPLETED, key=job_id.encode())
        await self.ledger.mark_completed(job_id)
        _log.info(
            "batch_job_completed",
            job_id=job_id,
            items=totals.items,
            failed=totals.failed,
            cost_usd=totals.cost_usd,
        )


async def _settled(settle: Settle, work: Callable[[], Awaitable[None]]) -> None:
    """Run `work` under the policy; if it can never succeed, hand the fetch back to Kafka."""
    if (failure := await settle(work)) is not None:
        raise RuntimeError(f"{failure.error_type}: {failure.reason}")


async def _all(coros: Iterable[Coroutine[Any, Any, bool]]) -> list[bool]:
    """Run concurrently; the first failure cancels the rest and is raised as itself.

    A TaskGroup raises an ExceptionGroup, which the failure classes would not recognise
    (an outage must stay an outage).
    """
    tasks: list[asyncio.Task[bool]] = []
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c) for c in coros]
    except* Exception as failed:  # noqa: BLE001 - re-raised below, unwrapped
        raise failed.exceptions[0] from None
    return [t.result() for t in tasks]


def _answered(
    item: BatchItemQueued, response: assistant_pb2.AskResponse, *, duration_ms: float
) -> BatchItemAnswered:
    return BatchItemAnswered(
        result_id=job_result_id(item.job_id, item.item_id),
        job_id=item.job_id,
        item_id=item.item_id,
        index=item.index,
        tenant=item.tenant,
        kind=item.kind,
        question=item.question,
        document_id=item.document_id,
        status=BatchItemStatus.ANSWERED,
        answer=response.answer,
        answer_id=response.answer_id,
        citations=[
            BatchCitation(
                marker=c.marker,
                chunk_id=c.chunk_id,
                document_id=c.document_id,
                title=c.title,
                source=c.source,
            )
            for c in response.citations
        ],
        # A cached answer used no tokens this time (its usage is the original's).
        usage=BatchUsage(model=response.usage.model)
        if response.cached
        else BatchUsage(
            prompt_tokens=response.usage.prompt_tokens,
            completion_tokens=response.usage.completion_tokens,
            cost_usd=max(0.0, response.usage.cost_usd),
            model=response.usage.model,
        ),
        cached=response.cached,
        prompt_version=response.prompt_version,
        route=response.route,
        guardrail_flags=list(response.guardrail_flags),
        duration_ms=round(duration_ms, 2),
    )


def _failed(item: BatchItemQueued, error_type: str, reason: str) -> BatchItemAnswered:
    return BatchItemAnswered(
        result_id=job_result_id(item.job_id, item.item_id),
        job_id=item.job_id,
        item_id=item.item_id,
        index=item.index,
        tenant=item.tenant,
        kind=item.kind,
        question=item.question,
        document_id=item.document_id,
        status=BatchItemStatus.FAILED,
        error_type=error_type,
        error_reason=reason[:2000],
    )


def _prompt_field(pinned: str, default: str) -> dict[str, str]:
    """The job's prompt when it pins one; else what a live Ask without one gets.

    Where the ask flow routes unpinned questions itself (its AskInput takes an empty
    prompt_version), batch items are routed the same way; else they get the default.
    """
    if pinned:
        return {"prompt_version": pinned}
    if AskInput.model_fields["prompt_version"].is_required():
        return {"prompt_version": default}
    return {}


def _error_type(name: str) -> str:
    """InvalidArgument -> invalid_argument."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
