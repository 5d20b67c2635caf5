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
"""

from __future__ import annotations

from typing import ClassVar

import grpc


class PlatformError(Exception):
    """Base of every error a service raises on purpose."""

    code: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL


class InvalidArgument(PlatformError):
    """The request is malformed; `violations` says which field and why."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, violations: dict[str, str]) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in violations.items()))
        self.violations = violations

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
