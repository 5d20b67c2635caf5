"""Builds the batch runner's parts in the service's lifespan (app.py calls `wire_batch`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from contracts import topics
from generation_service.batch.documents import RetrievalDocuments
from generation_service.batch.gate import LiveAssistant, LivePriorityGate
from generation_service.batch.handlers import build_batch_router
from generation_service.batch.ledger import BatchLedger
from generation_service.batch.runner import BatchRunner

if TYPE_CHECKING:
    import grpc
    from faststream.kafka import KafkaBroker
    from redis.asyncio import Redis

    from generation_service.assistant import Assistant
    from generation_service.settings import Settings

#: Topics the batch runner reads and writes, created at start-up.
BATCH_TOPICS = (
    topics.ANSWERS_JOBS,
    topics.ANSWERS_JOBS_DEAD_LETTER,
    topics.ANSWERS_JOB_ITEMS,
    topics.ANSWERS_JOB_RESULTS,
    topics.ANSWERS_JOB_COMPLETED,
)


@dataclass(frozen=True)
class BatchWiring:
    """What the lifespan needs back: the servicer's Assistant and the topics to create."""

    live_assistant: LiveAssistant
    topics: tuple[str, ...]


def wire_batch(
    settings: Settings,
    *,
    broker: KafkaBroker,
    assistant: Assistant,
    redis: Redis,
    retrieval_channel: grpc.aio.Channel,
) -> BatchWiring:
    """Include the batch subscribers in `broker`; live asks go through the returned Assistant."""
    batch = settings.batch
    gate = LivePriorityGate(batch.policy)
    if batch.enabled:
        runner = BatchRunner(
            broker=broker,
            assistant=assistant,
            ledger=BatchLedger(redis, ttl_s=batch.ledger_ttl_s),
            gate=gate,
            documents=RetrievalDocuments(retrieval_channel),
            default_top_k=settings.default_top_k,
            default_prompt=settings.prompt_version,
            item_attempts=batch.item_attempts,
            # Half the consumer's per-attempt timeout: the rest is for items in flight.
            start_budget_s=settings.kafka.consumer_handler_timeout_s / 2,
        )
        broker.include_router(build_batch_router(broker=broker, runner=runner, settings=batch))
    return BatchWiring(
        live_assistant=LiveAssistant(assistant, gate),
        topics=BATCH_TOPICS if batch.enabled else (),
    )
