"""Embedding settings (prefix EMBEDDING_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from platform_settings import KafkaSettings, ServiceSettings


class Settings(ServiceSettings):
    """Everything the embedding service reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="EMBEDDING_", extra="ignore")

    grpc_port: int = Field(50052, ge=0, le=65535)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    consumer_group: str = Field("embedding", description="Kafka consumer group.")
    triton_url: str = Field(..., description="host:port of Triton's gRPC endpoint.")
    triton_model: str = Field("text_embedding", description="Model name on Triton.")
    triton_timeout_s: float = Field(30.0, gt=0)
    model_label: str = Field(
        "all-MiniLM-L6-v2-int8", description="Engine name recorded on embedded events."
    )
    max_batch: int = Field(64, ge=1, le=1024, description="Texts per Triton request.")
    batch_max_documents: int = Field(
        32, ge=1, le=1000, description="Chunked documents embedded together from Kafka."
    )
    batch_wait_ms: int = Field(
        50, ge=0, le=5000, description="How long the consumer waits to fill a batch."
    )
    retrieval_addr: str = Field(
        "",
        description="host:port of retrieval, asked for the stored vectors of unchanged "
        "chunks; empty: every chunk is embedded.",
    )
    lookup_timeout_s: float = Field(5.0, gt=0, description="Deadline of one vector lookup.")
    max_texts_per_call: int = Field(256, ge=1, description="Limit of one Embed RPC.")
    max_text_chars: int = Field(8000, ge=1, description="Limit of one text in an Embed RPC.")
