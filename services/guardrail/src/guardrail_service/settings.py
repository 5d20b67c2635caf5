"""Guardrail settings (prefix GUARDRAIL_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from platform_settings import ServiceSettings


class Settings(ServiceSettings):
    """Everything the guardrail service reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="GUARDRAIL_", extra="ignore")

    grpc_port: int = Field(50055, ge=0, le=65535)
    injection_threshold: float = Field(0.7, ge=0, le=1)
    min_groundedness: float = Field(0.5, ge=0, le=1)
    denied_topics: list[str] = Field(
        default_factory=list, description='JSON list, e.g. ["weapons", "medical advice"].'
    )
    max_text_chars: int = Field(100_000, ge=1)
