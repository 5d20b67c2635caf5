"""Wiring of the guardrail service: one policy, one servicer, no dependencies."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from contracts.rpc import guardrail_pb2, guardrail_pb2_grpc
from guardrail_service.core import GuardrailPolicy
from guardrail_service.rpc import GuardrailServicer
from platform_grpc import ServiceRegistration
from platform_service import ServiceParts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from guardrail_service.settings import Settings


@contextlib.asynccontextmanager
async def lifespan(settings: Settings) -> AsyncIterator[ServiceParts]:
    """Build the policy; guardrail has no dependency to probe."""
    policy = GuardrailPolicy(
        injection_threshold=settings.injection_threshold,
        min_groundedness=settings.min_groundedness,
        denied_topics=tuple(settings.denied_topics),
    )
    yield ServiceParts(
        services=[
            ServiceRegistration(
                name=guardrail_pb2.DESCRIPTOR.services_by_name["Guardrail"].full_name,
                add_to_server=guardrail_pb2_grpc.add_GuardrailServicer_to_server,
                servicer=GuardrailServicer(policy=policy, max_text_chars=settings.max_text_chars),
            )
        ],
    )
