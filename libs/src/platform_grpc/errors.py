"""The platform's error tree, and its one mapping to gRPC status codes.

    PlatformError                  INTERNAL
    ├── InvalidArgument            INVALID_ARGUMENT (with field violations)
    ├── NotFound                   NOT_FOUND
    ├── PermissionDenied           PERMISSION_DENIED
    ├── ResourceExhausted          RESOURCE_EXHAUSTED
    ├── FailedPrecondition         FAILED_PRECONDITION
    └── DependencyUnavailable      UNAVAILABLE (a server we call is down; safe to retry)

Services raise these; the server interceptor turns them into statuses, so no RPC
method maps errors itself.

A status travels in trailers, and clients drop trailers over 16 KiB (the caller
then sees RESOURCE_EXHAUSTED "Stream removed", not the real status). So every
message and violation is bounded here, whatever a service put in it: quoted input
is a short prefix (`platform_logging.clip`), violations are capped in number and
bytes, and messages in bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import grpc

from platform_logging import clip, clip_bytes

if TYPE_CHECKING:
    from collections.abc import Mapping

#: A field path (several quoted parts at most) and a reason, in characters.
MAX_FIELD_CHARS = 128
MAX_REASON_CHARS = 256
#: Violations kept in one status, and their total UTF-8 size.
MAX_VIOLATIONS = 20
MAX_VIOLATION_BYTES = 4 * 1024
#: A status message in UTF-8 bytes; percent-encoded in grpc-message, it stays under 3 KiB.
MAX_MESSAGE_BYTES = 1024


def status_message(text: str) -> str:
    """`text` short enough for a status message."""
    return clip_bytes(text, MAX_MESSAGE_BYTES)


def bound_violations(violations: Mapping[str, str]) -> tuple[dict[str, str], int]:
    """The violations a status can carry (clipped, capped), and how many were left out."""
    kept: dict[str, str] = {}
    size = 0
    for field, reason in violations.items():
        field, reason = clip(field, MAX_FIELD_CHARS), clip(reason, MAX_REASON_CHARS)
        size += len(field.encode()) + len(reason.encode())
        if kept and (len(kept) >= MAX_VIOLATIONS or size > MAX_VIOLATION_BYTES):
            break
        kept[field] = reason
    return kept, len(violations) - len(kept)


class PlatformError(Exception):
    """Base of every error a service raises on purpose."""

    code: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL


class InvalidArgument(PlatformError):
    """The request is malformed; `violations` says which field and why."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, violations: Mapping[str, str]) -> None:
        kept, omitted = bound_violations(violations)
        super().__init__(_summary(kept, total=len(violations)))
        self.violations = kept
        self.omitted = omitted

    @classmethod
    def field(cls, name: str, reason: str) -> InvalidArgument:
        """One bad field."""
        return cls({name: reason})


class NotFound(PlatformError):
    """The thing asked for does not exist (for this tenant)."""

    code = grpc.StatusCode.NOT_FOUND


class PermissionDenied(PlatformError):
    """The caller may not do this."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(PlatformError):
    """Over a limit (size, rate, budget)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(PlatformError):
    """The system is not in a state to do this (e.g. a guardrail blocked it)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class DependencyUnavailable(PlatformError):
    """A server this service depends on is down or timed out; retry later."""

    code = grpc.StatusCode.UNAVAILABLE


def _summary(violations: Mapping[str, str], *, total: int) -> str:
    """The violations that fit in a status message, then how many more there are."""
    parts: list[str] = []
    size = 0
    for field, reason in violations.items():
        part = f"{field}: {reason}"
        size += len(part.encode()) + 2
        if parts and size > MAX_MESSAGE_BYTES - 64:  # room for the count
            break
        parts.append(part)
    message = "; ".join(parts)
    if total > len(parts):
        message += f"; and {total - len(parts)} more violations"
    return status_message(message)
