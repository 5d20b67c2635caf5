"""Carries the trace id in Kafka headers, both ways."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream import BaseMiddleware

from platform_logging import TRACE_HEADER, bind_request_context, current_trace_id

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from faststream.message import StreamMessage


class TraceMiddleware(BaseMiddleware):
    """Binds the incoming message's trace id to logs; stamps it on outgoing messages."""

    async def consume_scope(
        self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        """Bind trace id, topic, partition and offset for the handler's logs."""
        raw = msg.raw_message
        if isinstance(raw, tuple):  # a batch: its first record stands for it
            raw = raw[0] if raw else None
        with bind_request_context(
            msg.headers.get(TRACE_HEADER),
            topic=getattr(raw, "topic", ""),
            partition=str(getattr(raw, "partition", "")),
            offset=str(getattr(raw, "offset", "")),
        ):
            return await call_next(msg)

    async def publish_scope(self, call_next: Callable[[Any], Awaitable[Any]], cmd: Any) -> Any:
        """Add the current trace id unless the publisher set one."""
        trace_id = current_trace_id()
        if trace_id and TRACE_HEADER not in cmd.headers:
            cmd.headers[TRACE_HEADER] = trace_id
        return await call_next(cmd)
