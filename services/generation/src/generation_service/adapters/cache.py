"""Answers in Redis: the cache, when each tenant's documents last changed, answer records.

A cached answer is served only if it was computed after the tenant's documents last
changed. "Changed" is the time retrieval applied the change (the `indexed_at` of its
event), not the time this service heard of it, so a late or replayed event never
retires an answer that already saw the change. It relies on the services' clocks
agreeing to well under a second (NTP).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from contracts.rpc import assistant_pb2
from platform_grpc import DependencyUnavailable
from platform_logging import get_logger

if TYPE_CHECKING:
    from redis.asyncio import Redis

_log = get_logger(__name__)
_RESULT_FIELDS = {
    assistant_pb2.CACHE_RESULT_EXACT_HIT: "exact_hits",
    assistant_pb2.CACHE_RESULT_SEMANTIC_HIT: "semantic_hits",
    assistant_pb2.CACHE_RESULT_MISS: "misses",
}

# Keeps the largest timestamp, so events applied out of order never move it back.
_SET_MAX = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""


class AnswerCache:
    """Cached answers (serialized AskResponse) and the records feedback is checked against.

    The cache is an optimisation: a Redis failure is logged and the request is
    answered fresh, never failed.
    """

    def __init__(self, redis: Redis, *, ttl_s: int, answer_ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._answer_ttl_s = answer_ttl_s
        self._set_max = redis.register_script(_SET_MAX)

    async def get(self, key: str, *, tenant: str) -> bytes | None:
        """A cached answer computed after the tenant's last change, or None."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hmget(key, "answer", "computed_ms")
                pipe.get(changed_key(tenant))
                (answer, computed_ms), changed_ms = await pipe.execute()
        except RedisError as exc:
            _log.warning("cache_unavailable", error=str(exc))
            return None
        if answer is None or computed_ms is None:
            return None
        if int(computed_ms) <= int(changed_ms or 0):
            return None  # the documents changed after this answer was computed
        return answer

    async def put(self, key: str, answer: bytes, *, computed_ms: int) -> None:
        """Cache an answer whose retrieval started at `computed_ms` (epoch milliseconds)."""
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, mapping={"answer": answer, "computed_ms": computed_ms})
                pipe.expire(key, self._ttl_s)
                await pipe.execute()
        except RedisError as exc:
            _log.warning("cache_unavailable", error=str(exc))

    async def mark_changed(self, tenant: str, *, changed_ms: int) -> None:
        """The tenant's documents changed at `changed_ms`: older answers are stale."""
        await self._set_max(keys=[changed_key(tenant)], args=[changed_ms])

    async def remember_answer(self, answer_id: str, tenant: str) -> None:
        """Record which tenant an answer belongs to, so feedback can be checked."""
        try:
            await self._redis.set(_answer_key(answer_id), tenant, ex=self._answer_ttl_s)
        except RedisError as exc:
            _log.warning("cache_unavailable", error=str(exc))

    async def add_usage(
        self, tenant: str, *, prompt_tokens: int, completion_tokens: int, cost_usd: float
    ) -> None:
        """Add one answer to the tenant's running totals; skipped (logged) when Redis is down."""
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                key = _usage_key(tenant)
                pipe.hincrby(key, "answers", 1)
                pipe.hincrby(key, "prompt_tokens", prompt_tokens)
                pipe.hincrby(key, "completion_tokens", completion_tokens)
                pipe.hincrbyfloat(key, "cost_usd", cost_usd)
                await pipe.execute()
        except RedisError as exc:
            _log.warning("usage_not_recorded", error=str(exc), tenant=tenant)

    async def add_cache_outcome(self, tenant: str, outcome: assistant_pb2.CacheOutcome) -> None:
        """Count the answer's cache result and add what a hit saved to the tenant's totals.

        Kept in the usage hash: `exact_hits`, `semantic_hits`, `misses`, `skipped`, and the
        `saved_*` sums of hits; skipped (logged) when Redis is down.
        """
        field = _RESULT_FIELDS.get(outcome.result, "skipped")
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                key = _usage_key(tenant)
                pipe.hincrby(key, field, 1)
                if outcome.HasField("saved"):
                    pipe.hincrby(key, "saved_prompt_tokens", outcome.saved.prompt_tokens)
                    pipe.hincrby(key, "saved_completion_tokens", outcome.saved.completion_tokens)
                    pipe.hincrbyfloat(key, "saved_cost_usd", outcome.saved.cost_usd)
                    pipe.hincrbyfloat(key, "saved_ms", outcome.saved.ms)
                await pipe.execute()
        except RedisError as exc:
            _log.warning("usage_not_recorded", error=str(exc), tenant=tenant)

    async def usage_of(self, tenant: str) -> dict[str, float]:
        """The tenant's totals: answers, prompt_tokens, completion_tokens, cost_usd."""
        try:
            raw = await self._redis.hgetall(_usage_key(tenant))
        except RedisError as exc:
            raise DependencyUnavailable(f"usage totals unavailable: {exc}") from exc
        return {k.decode(): float(v) for k, v in raw.items()}

    async def answer_tenant(self, answer_id: str) -> str | None:
        """Tenant of a recorded answer; UNAVAILABLE when Redis is down (it cannot be checked)."""
        try:
            value = await self._redis.get(_answer_key(answer_id))
        except RedisError as exc:
            raise DependencyUnavailable(f"answer records unavailable: {exc}") from exc
        return value.decode() if value is not None else None


def changed_key(tenant: str) -> str:
    """Where the tenant's last document change time is kept (the semantic cache reads it)."""
    return f"genai:changed-ms:{tenant}"


def _usage_key(tenant: str) -> str:
    return f"genai:usage:{tenant}"


def _answer_key(answer_id: str) -> str:
    return f"genai:answer-record:{answer_id}"
