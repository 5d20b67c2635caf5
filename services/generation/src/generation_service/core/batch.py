"""Pure logic of batch jobs: expansion into items, the admission policy, the totals.

A job (`answers.jobs.v1`) becomes one `BatchItemQueued` per item with a deterministic
id (the caller's, else the index), so a job expanded twice yields the same items; an
item's outcome is recorded once its result is on the results topic, and the job's
totals are the sum of those outcomes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from contracts import BatchItemKind, BatchItemQueued, BatchItemStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from contracts import BatchItemAnswered, BatchJobSubmitted

#: The request a summary item sends through the ask flow, restricted to its document.
SUMMARY_QUESTION = "Summarise {title}."


@dataclass(frozen=True)
class ListedDocument:
    """A document of the tenant, as retrieval lists it."""

    document_id: str
    title: str


def job_fingerprint(job: BatchJobSubmitted) -> str:
    """sha256 of the job's content: the same id sent with other content is another job."""
    return hashlib.sha256(job.model_dump_json().encode()).hexdigest()


def expand_questions(job: BatchJobSubmitted) -> list[BatchItemQueued]:
    """One item per question, ids the caller's or the index."""
    ids = job.item_ids()
    return [
        _item(job, index=i, item_id=item_id, total=len(ids), question=q.question)
        for i, (item_id, q) in enumerate(zip(ids, job.questions, strict=True))
    ]


def expand_summaries(
    job: BatchJobSubmitted, documents: Sequence[ListedDocument]
) -> list[BatchItemQueued]:
    """One summary item per document; the item id is the document id's position-free hash.

    Documents are sorted by id first, so a job expanded again (after a crash) names the
    same documents with the same ids, whatever order retrieval listed them in.
    """
    ordered = sorted({d.document_id: d for d in documents}.values(), key=lambda d: d.document_id)
    return [
        _item(
            job,
            index=i,
            item_id=_document_item_id(d.document_id),
            total=len(ordered),
            question=SUMMARY_QUESTION.format(title=d.title or d.document_id),
            kind=BatchItemKind.SUMMARY,
            document_id=d.document_id,
        )
        for i, d in enumerate(ordered)
    ]


@dataclass(frozen=True)
class AdmissionPolicy:
    """When a batch item may start beside live asks."""

    #: Batch items in flight at once while no live ask is.
    concurrency: int = 4
    #: Live traffic counts as present until this long after its last ask ended: a caller
    #: asking back to back leaves gaps of a few milliseconds, which batch items must not fill.
    idle_after_s: float = 0.25
    #: After waiting this long behind live asks, one batch item at a time may start, so
    #: a steady live load slows batch work down but never stops it (nor makes its
    #: consumer miss its poll deadline).
    max_wait_s: float = 30.0


def may_start(
    *, live: int, batch: int, waited_s: float, live_idle_s: float, policy: AdmissionPolicy
) -> bool:
    """Whether a waiting batch item may start now.

    Live asks come first: with one in flight, or one ended less than `idle_after_s` ago
    (`live_idle_s`), no new batch item starts, until an item has waited `max_wait_s`, and
    then only while no other batch item runs.
    """
    if batch >= policy.concurrency:
        return False
    if live == 0 and live_idle_s >= policy.idle_after_s:
        return True
    return batch == 0 and waited_s >= policy.max_wait_s


@dataclass(frozen=True)
class ItemOutcome:
    """What one finished item adds to its job's totals (kept in Redis until completion)."""

    failed: bool
    cached: bool
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float

    @classmethod
    def of(cls, result: BatchItemAnswered) -> ItemOutcome:
        """The outcome a result reports."""
        return cls(
            failed=result.status is BatchItemStatus.FAILED,
            cached=result.cached,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            cost_usd=result.usage.cost_usd,
        )

    def dumps(self) -> str:
        """Compact JSON, as stored."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, raw: str | bytes) -> ItemOutcome:
        """Read a stored outcome."""
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class JobTotals:
    """A job's totals over its items' outcomes."""

    items: int
    answered: int
    failed: int
    cached: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


def job_totals(outcomes: Iterable[ItemOutcome]) -> JobTotals:
    """Sum the outcomes; cost is rounded to a micro-dollar so replays sum the same."""
    listed = list(outcomes)
    failed = sum(o.failed for o in listed)
    return JobTotals(
        items=len(listed),
        answered=len(listed) - failed,
        failed=failed,
        cached=sum(o.cached for o in listed),
        prompt_tokens=sum(o.prompt_tokens for o in listed),
        completion_tokens=sum(o.completion_tokens for o in listed),
        cost_usd=round(sum(o.cost_usd for o in listed), 6),
    )


def unique_items(items: Iterable[BatchItemQueued]) -> list[BatchItemQueued]:
    """Each (job, item) once, first copy kept: a job expanded twice queues its items twice."""
    seen: dict[tuple[str, str], BatchItemQueued] = {}
    for item in items:
        seen.setdefault((item.job_id, item.item_id), item)
    return list(seen.values())


def items_by_job(items: Iterable[BatchItemQueued]) -> Mapping[str, list[BatchItemQueued]]:
    """Items grouped by job, in order."""
    grouped: dict[str, list[BatchItemQueued]] = {}
    for item in items:
        grouped.setdefault(item.job_id, []).append(item)
    return grouped


def _document_item_id(document_id: str) -> str:
    # Document ids allow '/', which item ids (part of Kafka and Redis keys) do not.
    return "doc-" + hashlib.sha256(document_id.encode()).hexdigest()[:24]


def _item(
    job: BatchJobSubmitted,
    *,
    index: int,
    item_id: str,
    total: int,
    question: str,
    kind: BatchItemKind = BatchItemKind.QUESTION,
    document_id: str = "",
) -> BatchItemQueued:
    return BatchItemQueued(
        job_id=job.job_id,
        item_id=item_id,
        index=index,
        total=total,
        kind=kind,
        tenant=job.tenant,
        user_id=job.user_id,
        groups=list(job.groups),
        prompt_version=job.prompt_version,
        top_k=job.top_k,
        bypass_cache=job.bypass_cache,
        question=question,
        document_id=document_id,
    )
