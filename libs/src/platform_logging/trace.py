"""The trace id: carried in gRPC metadata and Kafka headers under one name."""

from __future__ import annotations

import contextlib
import uuid
from contextvars import ContextVar
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from collections.abc import Iterator

# Lower-case, because gRPC metadata keys must be, and the same key in Kafka
# headers lets one grep follow a request end to end.
TRACE_HEADER = "x-trace-id"

_trace_id: ContextVar[str | None] = ContextVar("trace_id", default=None)


def new_trace_id() -> str:
    """Return a fresh random trace id (32 hex characters, W3C trace-id sized)."""
    return uuid.uuid4().hex


def current_trace_id() -> str | None:
    """Return the trace id of the request being handled, if any."""
    return _trace_id.get()


@contextlib.contextmanager
def bind_request_context(trace_id: str | None, **fields: str) -> Iterator[str]:
    """Bind a trace id (new if missing) and extra fields to logs for one request."""
    trace_id = trace_id or new_trace_id()
    token = _trace_id.set(trace_id)
    with structlog.contextvars.bound_contextvars(trace_id=trace_id, **fields):
        try:
            yield trace_id
        finally:
            _trace_id.reset(token)
