"""Generation settings (prefix GENERATION_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from platform_settings import KafkaSettings, RedisSettings, ServiceSettings


class Settings(ServiceSettings):
    """Everything the generation service reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="GENERATION_", extra="ignore")

    grpc_port: int = Field(50054, ge=0, le=65535)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    consumer_group: str = Field("generation", description="Kafka consumer group.")
    retrieval_addr: str = Field(..., description="host:port of the retrieval service.")
    guardrail_addr: str = Field(..., description="host:port of the guardrail service.")
    feedback_addr: str = Field(..., description="host:port of the feedback service.")
    cache_ttl_s: int = Field(3600, ge=1, description="Lifetime of a cached answer.")
    answer_ttl_s: int = Field(7 * 24 * 3600, ge=1, description="How long feedback is accepted.")
    default_top_k: int = Field(5, ge=1, le=20)
    prompt_version: str = Field("extractive@1", description="Template used when none is pinned.")
