"""Answers in Redis: the cache, the per-tenant epoch that retires it, answer records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from platform_logging import get_logger
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from redis.asyncio import Redis

_log = get_logger(__name__)


class AnswerCache:
    """Cached answers (serialized AskResponse) and the records feedback is checked against.

    The cache is an optimisation: a Redis failure is logged and the request is
    answered fresh, never failed.
    """

    def __init__(self, redis: Redis, *, ttl_s: int, answer_ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._answer_ttl_s = answer_ttl_s

    async def epoch(self, tenant: str) -> int:
        """Current index epoch of the tenant (0 when never bumped or Redis is down)."""
        try:
            value = await self._redis.get(_epoch_key(tenant))
        except RedisError as exc:
            _log.warning("cache_unavailable", error=str(exc))
            return 0
        return int(value or 0)

    async def bump_epoch(self, tenant: str) -> None:
        """A document of the tenant changed: every cached answer of the tenant is stale."""
        await self._redis.incr(_epoch_key(tenant))

    async def get(self, key: str) -> bytes | None:
        """A cached serialized answer, or None."""
        try:
            return await self._redis.get(key)
        except RedisError as exc:
            _log.warning("cache_unavailable", error=str(exc))
            return None

    async def put(self, key: str, answer: bytes) -> None:
        """Cache an answer for ttl_s."""
        try:
            await self._redis.set(key, answer, ex=self._ttl_s)
        except RedisError as exc:
            _log.warning("cache_unavailable", error=str(exc))

    async def remember_answer(self, answer_id: str, tenant: str) -> None:
        """Record which tenant an answer belongs to, so feedback can be checked."""
        try:
            await self._redis.set(_answer_key(answer_id), tenant, ex=self._answer_ttl_s)
        except RedisError as exc:
            _log.warning("cache_unavailable", error=str(exc))

    async def answer_tenant(self, answer_id: str) -> str | None:
        """Tenant of a recorded answer; raises RedisError when Redis is down."""
        value = await self._redis.get(_answer_key(answer_id))
        return value.decode() if value is not None else None

    async def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(await self._redis.ping())
        except RedisError:
            return False


def _epoch_key(tenant: str) -> str:
    return f"genai:epoch:{tenant}"


def _answer_key(answer_id: str) -> str:
    return f"genai:answer-record:{answer_id}"
