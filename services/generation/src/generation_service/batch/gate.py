"""Live asks before batch items: a gate both pass through, and the Assistant live traffic uses.

Live asks never wait here; they are only counted. A batch item waits for a slot that
`core.batch.may_start` grants: up to `concurrency` items at once while no live ask has been
in flight for `idle_after_s`, none otherwise, and one at a time once an item has waited
`max_wait_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from generation_service.core.batch import AdmissionPolicy, may_start

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from contracts.rpc import assistant_pb2
    from generation_service.assistant import Assistant
    from generation_service.core import AskInput

#: How often a waiting batch item looks again when nothing wakes it (idle_after_s or
#: max_wait_s passing).
_RECHECK_S = 0.05


class LivePriorityGate:
    """Counts live asks and admits batch items below them."""

    def __init__(self, policy: AdmissionPolicy) -> None:
        self.policy = policy
        self._live = 0
        self._batch = 0
        self._live_ended = float("-inf")
        self._changed = asyncio.Condition()

    @property
    def live_in_flight(self) -> int:
        """Live asks being answered now."""
        return self._live

    @property
    def batch_in_flight(self) -> int:
        """Batch items being answered now."""
        return self._batch

    @contextlib.asynccontextmanager
    async def live(self) -> AsyncIterator[None]:
        """Mark one live ask in flight; it never waits."""
        self._live += 1
        try:
            yield
        finally:
            self._live -= 1
            self._live_ended = time.monotonic()
            await self._notify()

    @contextlib.asynccontextmanager
    async def batch_slot(self) -> AsyncIterator[float]:
        """Wait for a batch slot; yields the seconds waited."""
        started = time.monotonic()
        async with self._changed:
            while not may_start(
                live=self._live,
                batch=self._batch,
                waited_s=time.monotonic() - started,
                live_idle_s=time.monotonic() - self._live_ended,
                policy=self.policy,
            ):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), _RECHECK_S)
            self._batch += 1
        try:
            yield time.monotonic() - started
        finally:
            self._batch -= 1
            await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


class LiveAssistant:
    """The Assistant as the gRPC servicer sees it: every Ask counted as live traffic."""

    def __init__(self, assistant: Assistant, gate: LivePriorityGate) -> None:
        self._assistant = assistant
        self._gate = gate

    async def ask(self, ask: AskInput) -> assistant_pb2.AskResponse:
        """Answer a live ask; batch items wait while it runs."""
        async with self._gate.live():
            return await self._assistant.ask(ask)

    async def ask_stream(self, ask: AskInput) -> AsyncIterator[str | assistant_pb2.AskResponse]:
        """Stream a live answer; batch items wait while it runs."""
        async with self._gate.live():
            async for event in self._assistant.ask_stream(ask):
                yield event

    def __getattr__(self, name: str) -> Any:
        # Everything else (search, feedback, prompts, what others add) is the Assistant's own.
        return getattr(self._assistant, name)
