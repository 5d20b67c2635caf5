"""The deadline of the request being served, so downstream calls inherit it."""

from __future__ import annotations

import time
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("grpc_deadline", default=None)


def set_deadline(seconds_from_now: float | None) -> None:
    """Record the current request's deadline (monotonic clock)."""
    _deadline.set(None if seconds_from_now is None else time.monotonic() + seconds_from_now)


def remaining(default_s: float) -> float:
    """Seconds a downstream call may take: the request's remaining time, at most `default_s`."""
    deadline = _deadline.get()
    if deadline is None:
        return default_s
    return max(0.0, min(default_s, deadline - time.monotonic()))
