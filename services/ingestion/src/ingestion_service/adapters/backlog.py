"""Admission of bulk loads: a backfill document enters the pipeline only while the stage
after ingestion has little queued, so a live document never waits behind thousands."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from platform_grpc import DependencyUnavailable

if TYPE_CHECKING:
    from platform_kafka import GroupLag


class BackfillGate:
    """Holds a backfill message until the downstream group is fewer than `max_backlog`
    messages behind; an outage when it does not drain within `wait_s`."""

    def __init__(self, lag: GroupLag, *, max_backlog: int, wait_s: float) -> None:
        self._lag = lag
        self._max_backlog = max_backlog
        self._wait_s = wait_s

    async def admit(self) -> None:
        """Return once there is room downstream; raise DependencyUnavailable if none comes."""
        deadline = time.monotonic() + self._wait_s
        delay = 0.05
        while (behind := await self._lag.messages_behind()) >= self._max_backlog:
            if time.monotonic() >= deadline:
                # An outage, not a failure of this message: the consumer retries it with
                # backoff and reports why, and the message is never dead-lettered for it.
                raise DependencyUnavailable(
                    f"embedding: {behind} documents queued for embedding did not drain below "
                    f"{self._max_backlog} within {self._wait_s:g} s"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
