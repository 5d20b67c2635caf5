"""With Redis gone, asks degrade to fresh answers and feedback says UNAVAILABLE."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from generation_service.adapters import AnswerCache
from platform_grpc import DependencyUnavailable
from platform_stack.config import free_port


def test_cache_outage_degrades_instead_of_failing() -> None:
    async def scenario() -> None:
        # A port nobody listens on: every call fails to connect, as in an outage.
        redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
        cache = AnswerCache(redis, ttl_s=60, answer_ttl_s=60)
        assert await cache.get("k", tenant="acme") is None
        await cache.put("k", b"answer", computed_ms=1)
        await cache.remember_answer("a-1", "acme")
        with pytest.raises(DependencyUnavailable):
            await cache.answer_tenant("a-1")
        await redis.aclose()

    asyncio.run(scenario())
