"""Health follows dependencies: NOT_SERVING while Triton is down, SERVING after it returns.

Runs last in the session (file name order is not relied on: it restores Triton itself).
"""

from __future__ import annotations

import time

import pytest

from platform_grpc import LIVENESS_SERVICE
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
