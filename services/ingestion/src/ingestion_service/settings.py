"""Ingestion settings (prefix INGESTION_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from platform_settings import KafkaSettings, ServiceSettings


class Settings(ServiceSettings):
    """Everything the ingestion service reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="INGESTION_", extra="ignore")

    grpc_port: int = Field(50051, ge=0, le=65535)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    consumer_group: str = Field("ingestion", description="Kafka consumer group.")
    backfill_max_backlog: int = Field(
        16,
        ge=1,
        description="A backfill document enters only while embedding is fewer documents "
        "than this behind: the most a live document waits behind.",
    )
    backfill_wait_s: float = Field(
        90.0, gt=0, description="Longer without room downstream is reported as an outage."
    )
    downstream_group: str = Field(
        "embedding", description="Consumer group of the embedding service (its backlog)."
    )
    chunk_target_tokens: int = Field(
        200, ge=16, le=8192, description="Tokens of text a chunk aims at (model tokens)."
    )
    chunk_overlap_tokens: int = Field(
        32, ge=0, le=4096, description="Whole sentences repeated from the chunk before."
    )
    chunk_window_tokens: int = Field(
        256, ge=32, le=8192, description="The embedding model's window; never exceeded."
    )
    tokenizer_path: Path | None = Field(
        None,
        description="tokenizer.json of the embedding model; default: the packaged "
        "all-MiniLM-L6-v2's. Change it with the engine.",
    )
