"""Wiring of the generation service: peers, Redis, engines, subscriber, servicer."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from contracts import topics
from contracts.rpc import assistant_pb2, assistant_pb2_grpc
from generation_service import SERVICE_NAME
from generation_service.adapters import (
    AnswerCache,
    OpenAIModel,
    Peers,
    TritonModel,
    load_prompts,
)
from generation_service.adapters.embedder import GrpcQuestionEmbedder
from generation_service.adapters.semantic_cache import SemanticCache
from generation_service.assistant import Assistant
from generation_service.batch.wiring import wire_batch
from generation_service.cache_flow import CacheFlow
from generation_service.core import (
    EngineKind,
    ExtractiveEngine,
    PromptError,
    PromptRegistry,
    model_key,
)
from generation_service.handlers import build_router
from generation_service.llm import ModelEngine
from generation_service.rpc import AssistantServicer
from platform_grpc import ServiceRegistration, create_channel
from platform_kafka import build_broker
from platform_logging import get_logger
from platform_service import ServiceParts
from platform_triton import TritonGenerationClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import grpc

    from generation_service.settings import Settings

_log = get_logger(__name__)


@contextlib.asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[ServiceParts]:
    """Build what the service needs; the runner starts and stops it."""
    redis = Redis.from_url(
        settings.redis.url.get_secret_value(), socket_timeout=2.0, socket_connect_timeout=2.0
    )
    cache = AnswerCache(redis, ttl_s=settings.cache_ttl_s, answer_ttl_s=settings.answer_ttl_s)
    peers = Peers.connect(settings)
    caching, embedding_channel = _caching(settings, cache, redis)
    models = _model_engines(settings)
    extractive = {
        "extractive": ExtractiveEngine(),
        "extractive-stemmed": ExtractiveEngine(stemmed=True),
    }
    prompts = _servable(load_prompts(settings.prompts_dir), models, extractive)
    for role, name in (
        ("default prompt", settings.prompt_version),
        ("lookup tier", settings.tiers.lookup),
        ("synthesis tier", settings.tiers.synthesis),
    ):
        if name and prompts.resolve(name) is None:
            raise PromptError(f"{role} {name!r} not served: {prompts.known()}")
    assistant = Assistant(
        peers=peers,
        cache=cache,
        prompts=prompts,
        extractive=extractive,
        models=models,
        prices=settings.prices,
        default_prompt=settings.prompt_version,
        tiers=settings.tiers,
        caching=caching,
    )
    broker = build_broker(settings.kafka, client_id=SERVICE_NAME)
    broker.include_router(
        build_router(broker=broker, cache=cache, group_id=settings.consumer_group)
    )
    batch = wire_batch(
        settings,
        broker=broker,
        assistant=assistant,
        redis=redis,
        retrieval_channel=peers.channels["retrieval"],
    )
    try:
        yield ServiceParts(
            services=[
                ServiceRegistration(
                    name=assistant_pb2.DESCRIPTOR.services_by_name["Assistant"].full_name,
                    add_to_server=assistant_pb2_grpc.add_AssistantServicer_to_server,
                    servicer=AssistantServicer(
                        # Live asks counted, so batch items wait while they run.
                        assistant=batch.live_assistant,  # type: ignore[arg-type]
                        default_top_k=settings.default_top_k,
                    ),
                )
            ],
            # Redis is left out on purpose: without it answers are computed fresh, so
            # taking the service out of rotation would turn a slowdown into an outage.
            probes=peers.probes(),
            broker=broker,
            kafka=settings.kafka,
            topics=(topics.DOCUMENTS_INDEXED, *batch.topics),
        )
    finally:
        await peers.close()
        if embedding_channel is not None:
            await embedding_channel.close()
        for model in models.values():
            await model.client.close()
        await redis.aclose()


def _caching(
    settings: Settings, cache: AnswerCache, redis: Redis
) -> tuple[CacheFlow, grpc.aio.Channel | None]:
    """The exact cache, with the semantic one beside it when an embedder is configured."""
    if not settings.embedding_addr:
        _log.info("semantic_cache_off", reason="GENERATION_EMBEDDING_ADDR is empty")
        return CacheFlow(cache=cache), None
    # Embed is a read, safe to retry within its short deadline.
    channel = create_channel(settings.embedding_addr, idempotent=True)
    semantic = SemanticCache(
        redis,
        threshold=settings.semantic_cache_threshold,
        ttl_s=settings.cache_ttl_s,
        max_entries=settings.semantic_cache_max_entries,
    )
    embedder = GrpcQuestionEmbedder(channel, timeout_s=settings.embed_timeout_s)
    return CacheFlow(cache=cache, semantic=semantic, embedder=embedder), channel


def _model_engines(settings: Settings) -> dict[tuple[EngineKind, str], ModelEngine]:
    """The model clients configured, by `model_key`: Triton's models, an OpenAI endpoint."""
    engines: dict[tuple[EngineKind, str], ModelEngine] = {}
    if settings.triton_url:
        for name in settings.triton_models:
            client = TritonGenerationClient(
                url=settings.triton_url, model=name, timeout_s=settings.model_timeout_s
            )
            engines[EngineKind.TRITON, name] = ModelEngine(TritonModel(client, model=name))
    if settings.openai_url:
        engines[EngineKind.OPENAI, ""] = ModelEngine(
            OpenAIModel(
                base_url=settings.openai_url,
                api_key=settings.openai_api_key.get_secret_value(),
                model=settings.openai_model,
                context_tokens=settings.openai_context_tokens,
                timeout_s=settings.model_timeout_s,
            )
        )
    return engines


def _servable(
    prompts: PromptRegistry,
    models: dict[tuple[EngineKind, str], ModelEngine],
    extractive: dict[str, ExtractiveEngine],
) -> PromptRegistry:
    """The prompts whose engine is configured here; the others are logged and left out."""
    served = [
        p
        for p in prompts
        if (p.model in extractive if p.engine is EngineKind.EXTRACTIVE else model_key(p) in models)
    ]
    for prompt in prompts:
        if prompt not in served:
            _log.info("prompt_not_served", prompt=prompt.key, engine=prompt.engine.value)
    return PromptRegistry(served)
