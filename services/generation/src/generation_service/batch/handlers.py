"""Kafka subscribers of batch jobs: jobs are expanded into items, items are answered.

answers.jobs.v1 (one job per message): validated, then queued as one message per item on
answers.items.v1; an invalid job goes to answers.jobs.deadletter.v1 with its reason.
answers.items.v1 (up to `max_records` at once): the unfinished items are answered, several
at a time while no live ask is in flight; results go to answers.results.v1 and, once a
job's every item has one, its totals to answers.completed.v1.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter

from contracts import BatchItemQueued, BatchJobSubmitted, topics
from platform_kafka import (
    PoisonMessage,
    RedeliveryNeeded,
    attempt_until_settled,
    decode_event,
    event_subscriber,
    records_of,
    supervision_of,
    undecoded,
)
from platform_logging import get_logger

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

    from generation_service.batch.runner import BatchRunner
    from generation_service.batch.settings import BatchSettings

_log = get_logger(__name__)


def build_batch_router(
    *, broker: KafkaBroker, runner: BatchRunner, settings: BatchSettings
) -> KafkaRouter:
    """The job and item subscribers, closed over the runner."""
    router = KafkaRouter()
    supervision = supervision_of(broker)

    # Batch work never takes the Assistant out of rotation: live asks do not need it.
    @event_subscriber(
        router,
        topics.ANSWERS_JOBS,
        model=BatchJobSubmitted,
        broker=broker,
        group_id=settings.jobs_group,
        dead_letter_topic=topics.ANSWERS_JOBS_DEAD_LETTER,
        affects_readiness=False,
    )
    async def on_job_submitted(job: BatchJobSubmitted) -> None:
        await runner.expand(job)

    progress = supervision.register(
        group_id=settings.items_group, topic=topics.ANSWERS_JOB_ITEMS, affects_readiness=False
    )

    @router.subscriber(
        topics.ANSWERS_JOB_ITEMS,
        group_id=settings.items_group,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_poll_interval_ms=supervision.policy.max_poll_interval_ms,
        decoder=undecoded,
        auto_offset_reset="earliest",
        batch=True,
        max_records=settings.max_records,
        batch_timeout_ms=settings.fetch_wait_ms,
    )
    async def on_items_queued(message: KafkaMessage) -> None:
        records = records_of(message)
        if not records:
            return
        with progress.track(records[0]):
            items = []
            for record in records:
                try:
                    items.append(decode_event(record.value, BatchItemQueued))
                except PoisonMessage as poison:
                    # Our own topic: a bad item is a bug upstream, and blocking would not fix it.
                    _log.error(
                        "message_skipped",
                        error_type=poison.error_type,
                        reason=poison.reason[:300],
                        partition=record.partition,
                        offset=record.offset,
                    )
            settle = functools.partial(
                attempt_until_settled, policy=supervision.policy, progress=progress, outages={}
            )
            if await runner.run(items, settle):
                # Items waited too long behind live asks: the fetch comes back, and its
                # finished items are skipped.
                raise RedeliveryNeeded("batch items deferred behind live traffic")

    return router
