"""Bounds on caller input that reaches a log line or an error: a short prefix, never all of it.

Callers can send megabytes (a document, a 1 MB filter key). Quoting all of it
makes log files grow without limit and pushes gRPC statuses past the 16 KiB
trailer limit, where the client sees RESOURCE_EXHAUSTED instead of the real
status. Everything that echoes input goes through `clip`.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

#: Caller input quoted in an error message or a field name.
QUOTE_CHARS = 64
#: Any one string value in a log line (the event, a field, a repr).
LOG_VALUE_CHARS = 1_000
#: A formatted traceback: one line of it, and all of it.
LOG_TRACEBACK_LINE_CHARS = 1_000
LOG_TRACEBACK_CHARS = 20_000
#: Items kept of a list or dict logged as a value.
LOG_ITEMS = 50

_SCALARS = (bool, float, type(None))
# An int this wide renders past the value limit (and past 4300 digits, str() refuses).
_INT_BITS = 3_000
# Deeper containers are logged by their (clipped) repr.
_MAX_DEPTH = 3


def clip(text: str, limit: int = QUOTE_CHARS) -> str:
    """`text`, or its first `limit` characters, an ellipsis and its original length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…({len(text)} chars)"


def clip_bytes(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` of UTF-8 (with the marker), on a character boundary."""
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    marker = f"…({len(text)} chars)"
    head = encoded[: max(0, max_bytes - len(marker.encode()))].decode(errors="ignore")
    return head + marker


def bound_value(value: Any, *, limit: int = LOG_VALUE_CHARS, depth: int = 0) -> Any:
    """A loggable copy of `value` with every string, key and repr at most `limit` characters."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= _INT_BITS else f"<int of {value.bit_length()} bits>"
    if isinstance(value, str):
        return clip(value, limit)
    if depth < _MAX_DEPTH and isinstance(value, dict):
        bounded = {
            clip(str(k), limit): bound_value(v, limit=limit, depth=depth + 1)
            for k, v in islice(value.items(), LOG_ITEMS)
        }
        if len(value) > LOG_ITEMS:
            bounded["…"] = f"{len(value) - LOG_ITEMS} more items"
        return bounded
    if depth < _MAX_DEPTH and isinstance(value, list | tuple | set | frozenset):
        seq = [bound_value(v, limit=limit, depth=depth + 1) for v in islice(value, LOG_ITEMS)]
        if len(value) > LOG_ITEMS:
            seq.append(f"…{len(value) - LOG_ITEMS} more items")
        return seq
    # Anything else is rendered by its repr (bytes, protobuf messages, exceptions).
    return clip(repr(value), limit)


def bound_traceback(text: str) -> str:
    """A traceback with each line, and the whole, bounded; the last lines (the error) are kept."""
    lines = [clip(line, LOG_TRACEBACK_LINE_CHARS) for line in text.splitlines()]
    bounded = "\n".join(lines)
    if len(bounded) <= LOG_TRACEBACK_CHARS:
        return bounded
    half = LOG_TRACEBACK_CHARS // 2
    return f"{bounded[:half]}\n…({len(bounded)} chars)…\n{bounded[-half:]}"
