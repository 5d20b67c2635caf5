"""Feedback settings (prefix FEEDBACK_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from platform_settings import KafkaSettings, ServiceSettings


class Settings(ServiceSettings):
    """Everything the feedback service reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="FEEDBACK_", extra="ignore")

    grpc_port: int = Field(50056, ge=0, le=65535)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
