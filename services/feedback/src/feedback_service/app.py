"""Wiring of the feedback service: a producer and a servicer."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from contracts import topics
from contracts.rpc import feedback_pb2, feedback_pb2_grpc
from feedback_service import SERVICE_NAME
from feedback_service.rpc import FeedbackServicer
from platform_grpc import ServiceRegistration
from platform_kafka import build_broker
from platform_service import ServiceParts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from feedback_service.settings import Settings


@contextlib.asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[ServiceParts]:
    """Build the producer; the runner connects it before serving."""
    broker = build_broker(settings.kafka, client_id=SERVICE_NAME)
    yield ServiceParts(
        services=[
            ServiceRegistration(
                name=feedback_pb2.DESCRIPTOR.services_by_name["Feedback"].full_name,
                add_to_server=feedback_pb2_grpc.add_FeedbackServicer_to_server,
                servicer=FeedbackServicer(broker=broker),
            )
        ],
        broker=broker,
        kafka=settings.kafka,
        topics=(topics.FEEDBACK_RECEIVED, topics.NOTIFICATIONS),
    )
