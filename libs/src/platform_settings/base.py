"""Cross-cutting settings groups; each service composes them into its own `Settings`.

Shared infrastructure (Kafka, logging, Redis) is configured once per deployment with
un-prefixed variables (`KAFKA_BOOTSTRAP_SERVERS`), so compose files and ConfigMaps set
it in one place; everything that belongs to one service carries that service's prefix
(`RETRIEVAL_EMBEDDING_ADDR`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """How to reach the broker and how topics are created."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = Field(
        "127.0.0.1:9092", description="Comma-separated host:port list of brokers."
    )
    # On for real Kafka. The embedded Tansu broker supports neither idempotent
    # producers nor transactions, so the embedded stack turns this off.
    enable_idempotence: bool = Field(True, description="Idempotent producer (acks=all).")
    topic_partitions: int = Field(3, ge=1, description="Partitions of topics we create.")
    replication_factor: int = Field(1, ge=1, description="Replication of topics we create.")
    max_request_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Largest message a producer may send."
    )
    # How a consumer treats a message it cannot process (docs/ARCHITECTURE.md, failures).
    consumer_max_attempts: int = Field(
        3, ge=1, description="Attempts on a failing message before it is dead-lettered."
    )
    consumer_handler_timeout_s: float = Field(
        120.0, gt=0, description="Longest one attempt may take; past it the attempt failed."
    )
    consumer_outage_give_up_s: float = Field(
        3600.0,
        gt=0,
        description="How long a dependency outage is retried on one message before it is "
        "dead-lettered as dependency_unavailable (replayable).",
    )
    consumer_stall_after_s: float = Field(
        120.0, gt=0, description="A message unfinished for longer reports NOT_SERVING."
    )


class LoggingSettings(BaseSettings):
    """Log format and level."""

    model_config = SettingsConfigDict(env_prefix="LOG_", extra="ignore")

    format: Literal["json", "console"] = "json"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class RedisSettings(BaseSettings):
    """Where the cache lives."""

    model_config = SettingsConfigDict(env_prefix="REDIS_", extra="ignore")

    url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6379/0"),
        description="redis:// URL; may carry a password, hence secret.",
    )


class GrpcServerSettings(BaseSettings):
    """Limits of a gRPC server; shared so every service enforces the same ones."""

    model_config = SettingsConfigDict(env_prefix="GRPC_", extra="ignore")

    max_message_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    shutdown_grace_s: float = Field(10.0, ge=0)
    # Applied when a client sends no deadline, so no call can hang forever.
    default_deadline_s: float = Field(30.0, gt=0)


class ServiceSettings(BaseSettings):
    """Base of every service's `Settings`: the groups every service needs."""

    model_config = SettingsConfigDict(extra="ignore")

    grpc_port: int = Field(..., ge=0, le=65535, description="Port of the gRPC server.")
    grpc: GrpcServerSettings = Field(default_factory=GrpcServerSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
