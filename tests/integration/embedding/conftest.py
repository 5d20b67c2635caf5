"""Fixtures for the engine tests: the session stack's Triton, and an address where none listens."""

from __future__ import annotations

import pytest

from platform_stack import Stack
from platform_stack.config import free_port


@pytest.fixture(scope="module")
def triton_url(stack: Stack) -> str:
    """gRPC address of the stack's Triton, serving the engine `make models` built."""
    return stack.config.address("triton")


@pytest.fixture
def unused_tcp_url() -> str:
    """Address of a local port with nothing listening on it."""
    return f"127.0.0.1:{free_port()}"
