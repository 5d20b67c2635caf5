"""Semantic cache entries in Redis, searched through a local index per scope.

Redis (7.0 here, no vector module) is the source of truth that every replica shares: one
sorted set per scope, `genai:semantic:<tenant>:<scope digest>`, whose members are encoded
`SemanticEntry`s (exact-key digest, computed_ms, content-words digest, float32 vector),
scored by the Redis time they were added. Each replica mirrors the scopes it serves in a
`ScopeIndex` and reads only the members added since its last read, so a restarted or new
replica rebuilds its copy from Redis on its first lookup, and an answer cached by one
replica is found by all.

An entry names an exact cache key and holds no answer: a hit is served through
`AnswerCache.get`, so the exact cache's TTL and its per-tenant "documents changed at" rule
retire semantic hits too, with nothing else to invalidate.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from generation_service.adapters.cache import changed_key
from generation_service.core.semantic import ScopeIndex, SemanticEntry
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Sequence

    from redis.asyncio import Redis

    from generation_service.core.semantic import SemanticMatch

_log = get_logger(__name__)

# Adds an entry scored by Redis's own clock (one clock for every replica), prunes entries
# past the TTL and the oldest beyond the cap, and keeps the set alive as long as its newest.
_ADD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if excess > 0 then
  redis.call('ZPOPMIN', KEYS[1], excess)
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return now
"""
#: How far back from the newest member read a replica reads again: entries added within
#: the same millisecond, or by a Redis whose clock stepped back a little, are not missed.
_RESYNC_MS = 2_000


class SemanticCacheUnavailable(Exception):
    """Redis could not be read or written; the lookup is skipped, the ask answered fresh."""


class SemanticCache:
    """Entries in Redis, cosine search in process."""

    def __init__(
        self,
        redis: Redis,
        *,
        threshold: float,
        ttl_s: int,
        max_entries: int,
        max_local_entries: int = 100_000,
    ) -> None:
        self._redis = redis
        self._threshold = threshold
        self._ttl_ms = ttl_s * 1000
        self._max_entries = max_entries
        #: Entries mirrored in this process over all scopes (~1.6 kB each at 384 dimensions);
        #: the least recently used scopes go first, and are read again from Redis if asked.
        self._max_local_entries = max_local_entries
        self._indexes: OrderedDict[str, ScopeIndex] = OrderedDict()
        self._add = redis.register_script(_ADD)

    @property
    def threshold(self) -> float:
        """The least cosine similarity served as a hit."""
        return self._threshold

    async def find(
        self, *, scope: str, tenant: str, vector: Sequence[float], terms: int
    ) -> SemanticMatch | None:
        """The scope's closest entry computed after the tenant's last change, if close enough."""
        index = self._index(scope)
        since = "-inf" if index.synced_ms is None else f"({index.synced_ms - _RESYNC_MS}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zrangebyscore(_scope_key(scope), since, "+inf", withscores=True)
                pipe.get(changed_key(tenant))
                members, changed_ms = await pipe.execute()
        except RedisError as exc:
            _log.warning("semantic_cache_unavailable", error=str(exc))
            raise SemanticCacheUnavailable(str(exc)) from exc
        index.add(_decoded(members))
        if members:
            index.synced_ms = max(score for _, score in members)
        # Answers computed before the change, or long enough ago that the exact entry
        # expired, can never be served: forget them here as well.
        oldest_ms = max(int(changed_ms or 0), int(time.time() * 1000) - self._ttl_ms)
        index.drop(not_after_ms=oldest_ms)
        if len(index) > 2 * self._max_entries:  # Redis pruned more than we saw: read afresh
            self._indexes.pop(scope, None)
        return index.best(vector, terms=terms, threshold=self._threshold, fresh_after_ms=oldest_ms)

    async def add(self, *, scope: str, entry: SemanticEntry) -> None:
        """Record an answered question; skipped (logged) when Redis is down."""
        try:
            await self._add(
                keys=[_scope_key(scope)], args=[entry.encode(), self._ttl_ms, self._max_entries]
            )
        except RedisError as exc:
            _log.warning("semantic_cache_unavailable", error=str(exc))
            return
        if (index := self._indexes.get(scope)) is not None:
            index.add([entry])

    def _index(self, scope: str) -> ScopeIndex:
        """The scope's local copy, most recently used last; the least used beyond the cap go."""
        index = self._indexes.pop(scope, None) or ScopeIndex()
        held = sum(len(i) for i in self._indexes.values()) + len(index)
        while self._indexes and held > self._max_local_entries:
            _, evicted = self._indexes.popitem(last=False)
            held -= len(evicted)
        self._indexes[scope] = index
        return index


def _decoded(members: list[tuple[bytes, float]]) -> list[SemanticEntry]:
    entries = []
    for raw, _ in members:
        try:
            entries.append(SemanticEntry.decode(raw))
        except ValueError:
            _log.warning("semantic_entry_unreadable", size=len(raw))
    return entries


def _scope_key(scope: str) -> str:
    return f"genai:semantic:{scope}"
