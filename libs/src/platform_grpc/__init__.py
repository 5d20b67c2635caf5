"""gRPC plumbing: server bootstrap, health, client channels, errors."""

from __future__ import annotations

from platform_grpc.channel import create_channel, is_serving
from platform_grpc.errors import (
    DependencyUnavailable,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    PlatformError,
    ResourceExhausted,
)
from platform_grpc.server import (
    LIVENESS_SERVICE,
    HealthMonitor,
    ServiceRegistration,
    build_server,
)
from platform_grpc.validation import PRINCIPAL_FIELDS, validated

__all__ = (
    "LIVENESS_SERVICE",
    "PRINCIPAL_FIELDS",
    "DependencyUnavailable",
    "FailedPrecondition",
    "HealthMonitor",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "PlatformError",
    "ResourceExhausted",
    "ServiceRegistration",
    "build_server",
    "create_channel",
    "is_serving",
    "validated",
)
