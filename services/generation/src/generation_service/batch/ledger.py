"""The batch ledger in Redis: which items of a job have their result, and what they cost.

Written only after an item's result is acknowledged on the results topic, so an item
marked done is never lost, and an item not marked is answered again on redelivery.
Every write is idempotent (HSET of a deterministic field, SET of the same value).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from generation_service.core.batch import ItemOutcome
from platform_grpc import DependencyUnavailable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from redis.asyncio import Redis

_PREFIX = "genai:batch"


class JobIdReused(Exception):
    """A job id arrived again with other content."""


class BatchLedger:
    """Per job: the content's fingerprint, the finished items' outcomes, completion."""

    def __init__(self, redis: Redis, *, ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    async def claim(self, job_id: str, fingerprint: str) -> None:
        """Record the job's fingerprint; raise JobIdReused if the id holds other content."""
        key = f"{_PREFIX}:{job_id}:fingerprint"
        async with _mapped():
            await self._redis.set(key, fingerprint, nx=True, ex=self._ttl_s)
            stored = await self._redis.get(key)
        if stored is not None and stored.decode() != fingerprint:
            raise JobIdReused(f"job id {job_id!r} was used for a job with other content")

    async def done_items(self, job_id: str, item_ids: Iterable[str]) -> set[str]:
        """The ids among `item_ids` whose result is on the results topic."""
        wanted = list(item_ids)
        if not wanted:
            return set()
        async with _mapped():
            present = await self._redis.hmget(_done_key(job_id), wanted)
        return {item for item, value in zip(wanted, present, strict=True) if value is not None}

    async def mark_done(self, job_id: str, item_id: str, outcome: ItemOutcome) -> None:
        """Record a finished item (after its result was acknowledged)."""
        key = _done_key(job_id)
        async with _mapped(), self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, item_id, outcome.dumps())
            pipe.expire(key, self._ttl_s)
            await pipe.execute()

    async def outcomes(self, job_id: str) -> dict[str, ItemOutcome]:
        """Every finished item's outcome."""
        async with _mapped():
            raw = await self._redis.hgetall(_done_key(job_id))
        return {k.decode(): ItemOutcome.loads(v) for k, v in raw.items()}

    async def is_completed(self, job_id: str) -> bool:
        """Whether the job's completed event was acknowledged."""
        async with _mapped():
            return bool(await self._redis.exists(_completed_key(job_id)))

    async def mark_completed(self, job_id: str) -> None:
        """Record that the completed event was acknowledged."""
        async with _mapped():
            await self._redis.set(_completed_key(job_id), 1, ex=self._ttl_s)


def _done_key(job_id: str) -> str:
    return f"{_PREFIX}:{job_id}:done"


def _completed_key(job_id: str) -> str:
    return f"{_PREFIX}:{job_id}:completed"


@contextlib.asynccontextmanager
async def _mapped() -> AsyncIterator[None]:
    """Redis failures become DependencyUnavailable: the consumer waits the outage out."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise DependencyUnavailable(f"redis: {exc}") from exc
