"""Ingestion settings (prefix INGESTION_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from platform_settings import KafkaSettings, ServiceSettings


class Settings(ServiceSettings):
    """Everything the ingestion service reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="INGESTION_", extra="ignore")

    grpc_port: int = Field(50051, ge=0, le=65535)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    consumer_group: str = Field("ingestion", description="Kafka consumer group.")
    chunk_max_words: int = Field(180, ge=16, le=2000)
    chunk_overlap_words: int = Field(30, ge=0, le=500)
