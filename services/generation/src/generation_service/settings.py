"""Generation settings (prefix GENERATION_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from generation_service.batch.settings import BatchSettings
from generation_service.core import DEFAULT_LABEL, ModelPrice, TierPolicy
from platform_settings import KafkaSettings, RedisSettings, ServiceSettings


class Settings(ServiceSettings):
    """Everything the generation service reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="GENERATION_", extra="ignore")

    grpc_port: int = Field(50054, ge=0, le=65535)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    consumer_group: str = Field("generation", description="Kafka consumer group.")
    retrieval_addr: str = Field(..., description="host:port of the retrieval service.")
    guardrail_addr: str = Field(..., description="host:port of the guardrail service.")
    feedback_addr: str = Field(..., description="host:port of the feedback service.")
    cache_ttl_s: int = Field(3600, ge=1, description="Lifetime of a cached answer.")
    answer_ttl_s: int = Field(7 * 24 * 3600, ge=1, description="How long feedback is accepted.")
    embedding_addr: str = Field(
        "",
        description="host:port of the embedding service, which embeds questions for the "
        "semantic answer cache; empty: no semantic cache (the exact one still works).",
    )
    semantic_cache_threshold: float = Field(
        0.91,
        gt=0.0,
        le=1.0,
        description="Least cosine similarity of two questions (with the same content words) "
        "for one to be served the other's cached answer; chosen in EVALUATION.md.",
    )
    semantic_cache_max_entries: int = Field(
        10_000, ge=1, description="Most questions kept per semantic cache scope; oldest go."
    )
    embed_timeout_s: float = Field(
        0.5, gt=0, description="Deadline of embedding a question; past it, no semantic lookup."
    )
    default_top_k: int = Field(5, ge=1, le=20)
    prompt_version: str = Field(
        DEFAULT_LABEL, description="Prompt version or label used when a request pins none."
    )
    prompts_dir: Path = Field(
        Path(__file__).resolve().parents[2] / "prompts",
        description="Folder of prompt files (name@version.yaml), read at start-up.",
    )
    triton_url: str = Field(
        "", description="host:port of Triton's gRPC; empty: prompts on Triton are not served."
    )
    triton_models: list[str] = Field(
        default_factory=lambda: ["text_generation"],
        description='Triton\'s language models, as a JSON list, e.g. ["text_generation", '
        '"text_generation_qwen05"]; prompts naming another model are not served.',
    )
    tiers: TierPolicy = Field(
        default_factory=TierPolicy,
        description='Routing policy: the prompt per kind of question, e.g. {"lookup": '
        '"production", "synthesis": "grounded-qwen@1"}; unset: every unpinned question gets '
        "prompt_version.",
    )
    openai_url: str = Field(
        "", description="Base URL of an OpenAI-compatible API (…/v1); empty: none is served."
    )
    openai_api_key: SecretStr = Field(SecretStr(""), description="Bearer key of that API.")
    openai_model: str = Field("", description="Model name sent to the OpenAI-compatible API.")
    openai_context_tokens: int = Field(8192, ge=256, description="That model's context window.")
    model_timeout_s: float = Field(120.0, gt=0, description="Deadline of one model answer.")
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description='USD per 1M tokens by model, e.g. {"gpt-4o-mini": {"input_per_1m": 0.15, '
        '"output_per_1m": 0.6}}; models not listed cost 0 (local models).',
    )
