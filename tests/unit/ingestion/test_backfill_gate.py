"""The backfill gate admits while the downstream backlog is small and calls a backlog that
never drains an outage (retried by the consumer), never a failure of the message."""

from __future__ import annotations

import asyncio

import pytest

from ingestion_service.adapters.backlog import BackfillGate
from platform_grpc import DependencyUnavailable


class _DrainingLag:
    """Logic-only stand-in for GroupLag: the backlog it reports, one value per question."""

    def __init__(self, backlog: list[int]) -> None:
        self.backlog = backlog
        self.asked = 0

    async def messages_behind(self) -> int:
        self.asked += 1
        return self.backlog[min(self.asked, len(self.backlog)) - 1]


def test_admits_at_once_below_the_limit_and_after_the_backlog_drains() -> None:
    lag = _DrainingLag([3])
    asyncio.run(BackfillGate(lag, max_backlog=16, wait_s=5).admit())
    assert lag.asked == 1
    lag = _DrainingLag([40, 30, 20, 15])
    asyncio.run(BackfillGate(lag, max_backlog=16, wait_s=5).admit())
    assert lag.asked == 4


def test_a_backlog_that_never_drains_is_an_outage_of_embedding() -> None:
    gate = BackfillGate(_DrainingLag([100]), max_backlog=16, wait_s=0.3)
    with pytest.raises(DependencyUnavailable, match=r"^embedding: 100 documents"):
        asyncio.run(gate.admit())
