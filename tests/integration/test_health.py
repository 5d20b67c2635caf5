"""Health follows dependencies: NOT_SERVING while Triton is down, SERVING after it returns.

Runs last in the session (file name order is not relied on: it restores Triton itself).
"""

from __future__ import annotations

import time

import grpc
import pytest
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from platform_grpc import LIVENESS_SERVICE
from platform_stack import SERVICES
from platform_stack.readiness import grpc_serving

pytestmark = pytest.mark.integration


def _wait_for(predicate, *, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_embedding_health_tracks_triton(own_stack):
    stack = own_stack
    embedding = stack.config.address("embedding")
    assert grpc_serving(embedding)
    stack.stop_component("triton")
    try:
        assert _wait_for(lambda: not grpc_serving(embedding), timeout_s=20), (
            "still SERVING without Triton"
        )
        assert not grpc_serving(embedding, "genai.v1.Embedding")
        # Liveness is about the process, not its dependencies: no restart for an outage.
        assert grpc_serving(embedding, LIVENESS_SERVICE)
    finally:
        stack.start_component("triton", timeout_s=180)
    assert _wait_for(lambda: grpc_serving(embedding), timeout_s=60), (
        "not SERVING after Triton returned"
    )
    # Readiness cascades (retrieval needs embedding, generation needs retrieval): leave the
    # stack as the other tests expect it, every service SERVING.
    for service in SERVICES:
        assert _wait_for(lambda s=service: grpc_serving(stack.config.address(s)), timeout_s=30), (
            service
        )


@pytest.mark.parametrize(
    ("service", "grpc_service"),
    [
        ("ingestion", "genai.v1.Ingestion"),
        ("embedding", "genai.v1.Embedding"),
        ("retrieval", "genai.v1.Retrieval"),
        ("generation", "genai.v1.Assistant"),
        ("guardrail", "genai.v1.Guardrail"),
        ("feedback", "genai.v1.Feedback"),
    ],
)
def test_every_service_answers_health_and_reflection(stack, service, grpc_service):
    address = stack.config.address(service)
    assert grpc_serving(address) and grpc_serving(address, grpc_service)
    with grpc.insecure_channel(address) as channel:
        services = ProtoReflectionDescriptorDatabase(channel).get_services()
    assert grpc_service in services and "grpc.health.v1.Health" in services
