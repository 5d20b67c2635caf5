"""Wiring of the generation service: peers, Redis, engines, subscriber, servicer."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from contracts import topics
from contracts.rpc import assistant_pb2, assistant_pb2_grpc
from generation_service import SERVICE_NAME
from generation_service.adapters import AnswerCache, Peers
from generation_service.assistant import Assistant
from generation_service.core import ExtractiveEngine
from generation_service.handlers import build_router
from generation_service.rpc import AssistantServicer
from platform_grpc import ServiceRegistration
from platform_kafka import build_broker
from platform_service import ServiceParts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from generation_service.settings import Settings


@contextlib.asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[ServiceParts]:
    """Build what the service needs; the runner starts and stops it."""
    redis = Redis.from_url(
        settings.redis.url.get_secret_value(), socket_timeout=2.0, socket_connect_timeout=2.0
    )
    cache = AnswerCache(redis, ttl_s=settings.cache_ttl_s, answer_ttl_s=settings.answer_ttl_s)
    peers = Peers.connect(settings)
    engine = ExtractiveEngine()
    assistant = Assistant(peers=peers, cache=cache, engines={engine.name: engine})
    broker = build_broker(settings.kafka, client_id=SERVICE_NAME)
    broker.include_router(
        build_router(broker=broker, cache=cache, group_id=settings.consumer_group)
    )
    try:
        yield ServiceParts(
            services=[
                ServiceRegistration(
                    name=assistant_pb2.DESCRIPTOR.services_by_name["Assistant"].full_name,
                    add_to_server=assistant_pb2_grpc.add_AssistantServicer_to_server,
                    servicer=AssistantServicer(
                        assistant=assistant,
                        default_top_k=settings.default_top_k,
                        prompt_version=settings.prompt_version,
                    ),
                )
            ],
            # Redis is left out on purpose: without it answers are computed fresh, so
            # taking the service out of rotation would turn a slowdown into an outage.
            probes=peers.probes(),
            broker=broker,
            kafka=settings.kafka,
            topics=(topics.DOCUMENTS_INDEXED,),
        )
    finally:
        await peers.close()
        await redis.aclose()
