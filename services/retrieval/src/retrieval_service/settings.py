"""Retrieval settings (prefix RETRIEVAL_)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator
from pydantic_settings import SettingsConfigDict

from contracts.events import METADATA_KEY_PATTERN
from platform_settings import KafkaSettings, ServiceSettings
from retrieval_service.core import Fusion
from retrieval_service.core.filters import DEFAULT_FACET_METADATA_KEYS


class Settings(ServiceSettings):
    """Everything the retrieval service reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="RETRIEVAL_", extra="ignore")

    grpc_port: int = Field(50053, ge=0, le=65535)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    consumer_group: str = Field("retrieval", description="Kafka consumer group.")
    embedding_addr: str = Field(..., description="host:port of the embedding service.")
    qdrant_url: str | None = Field(
        None, description="Qdrant server URL; wins over path (compose, k8s)."
    )
    qdrant_path: str | None = Field(
        None,
        description="Directory of the embedded index (Qdrant Edge; one process only), "
        "used when no URL is set: a shard per collection in <path>/edge/<collection>.",
    )
    edge_optimize_on_start: bool = Field(
        False,
        description="Compact the embedded index's segments before serving (blocks startup: "
        "about 3 s per 100k chunks); never done while serving.",
    )
    collection: str = Field("chunks", description="Qdrant collection of chunks.")
    lexical_backend: Literal["qdrant", "opensearch"] = Field(
        "qdrant", description="Where BM25 runs: Qdrant sparse vectors, or OpenSearch."
    )
    opensearch_url: str | None = Field(
        None, description="OpenSearch URL (lexical_backend=opensearch)."
    )
    opensearch_index: str = Field("chunks", description="OpenSearch index of chunks.")
    dimensions: int = Field(384, ge=1, description="Dense vector size of the engine.")
    # Chunks of up to 180 words average about 50 content terms once stopwords are dropped,
    # plus the title and heading indexed with them.
    bm25_avg_len: float = Field(60.0, gt=0, description="Average chunk length in terms.")
    default_top_k: int = Field(10, ge=1, le=100)
    # The engine counts facets from keyword indexes, built at startup (never per request):
    # source, title and heading always, and these metadata keys.
    facet_metadata_keys: tuple[
        Annotated[str, StringConstraints(pattern=METADATA_KEY_PATTERN)], ...
    ] = Field(
        DEFAULT_FACET_METADATA_KEYS,
        max_length=32,
        description="Metadata keys a search can ask facet counts of, as metadata.<key> "
        '(JSON list, e.g. ["year","department"]); each is indexed at startup.',
    )
    # The best configuration of `genai eval retrieval` on the python-faq dataset: DBSF with
    # dense weight 0.6, nDCG@10 +0.025 over RRF (95% interval +0.003..+0.051; EVALUATION.md).
    default_fusion: Fusion = Field(
        Fusion.DBSF,
        description="Fusion of a request that names none (FUSION_METHOD_UNSPECIFIED): dbsf, "
        "rrf, dense or sparse. EVALUATION.md has the figures behind the default.",
    )
    default_dense_weight: float | None = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="Dense weight that goes with the default fusion when the request names "
        "neither a method nor a weight; unset: equal weights.",
    )
    # The second stage (services/retrieval/engine/README.md): the fused candidates re-scored by
    # a Triton model that serves the reranker contract.
    rerank_model: str = Field(
        "",
        description="Triton model of the second stage (the reranker contract, e.g. "
        "text_reranker); empty: no second stage, and requests asking for it are refused.",
    )
    triton_url: str | None = Field(
        None, description="host:port of the Triton gRPC endpoint serving RETRIEVAL_RERANK_MODEL."
    )
    rerank_candidates: int = Field(
        50, ge=1, le=200, description="Fused candidates the second stage re-scores per search."
    )
    rerank_default: bool = Field(
        False,
        description="Whether a request that does not say (RERANK_MODE_UNSPECIFIED) gets the "
        "second stage; off until the evaluation shows it helps (EVALUATION.md).",
    )
    rerank_timeout_s: float = Field(
        2.0,
        gt=0,
        le=60,
        description="The most one reranker call may take; past it (or on any failure) the "
        "search answers in fused order.",
    )

    @model_validator(mode="after")
    def _one_store(self) -> Settings:
        if not self.qdrant_url and not self.qdrant_path:
            raise ValueError(
                "set RETRIEVAL_QDRANT_URL (a server) or RETRIEVAL_QDRANT_PATH (embedded index)"
            )
        if self.lexical_backend == "opensearch" and not self.opensearch_url:
            raise ValueError("RETRIEVAL_LEXICAL_BACKEND=opensearch needs RETRIEVAL_OPENSEARCH_URL")
        if self.rerank_model and not self.triton_url:
            raise ValueError("RETRIEVAL_RERANK_MODEL needs RETRIEVAL_TRITON_URL")
        if self.rerank_default and not self.rerank_model:
            raise ValueError("RETRIEVAL_RERANK_DEFAULT=true needs RETRIEVAL_RERANK_MODEL")
        return self
