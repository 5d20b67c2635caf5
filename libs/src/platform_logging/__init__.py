"""structlog configuration and the trace id that follows a request across services."""

from __future__ import annotations

from platform_logging.bounds import QUOTE_CHARS, clip, clip_bytes
from platform_logging.setup import configure_logging, get_logger
from platform_logging.trace import (
    TRACE_HEADER,
    bind_request_context,
    current_trace_id,
    new_trace_id,
)

__all__ = (
    "QUOTE_CHARS",
    "TRACE_HEADER",
    "bind_request_context",
    "clip",
    "clip_bytes",
    "configure_logging",
    "current_trace_id",
    "get_logger",
    "new_trace_id",
)
