"""Settings shared by every service, read from the environment."""

from __future__ import annotations

from platform_settings.base import (
    GrpcServerSettings,
    KafkaSettings,
    LoggingSettings,
    RedisSettings,
    ServiceSettings,
)

__all__ = (
    "GrpcServerSettings",
    "KafkaSettings",
    "LoggingSettings",
    "RedisSettings",
    "ServiceSettings",
)
