"""Triton integration for the platform: server launch command, embedding client and their errors."""

from __future__ import annotations

from platform_triton.client import TritonEmbeddingClient
from platform_triton.errors import (
    PlatformTritonError,
    TritonBinaryMissing,
    TritonInferenceError,
    TritonUnavailable,
)
from platform_triton.server import find_tritonserver, tritonserver_command

__all__ = [
    "PlatformTritonError",
    "TritonBinaryMissing",
    "TritonEmbeddingClient",
    "TritonInferenceError",
    "TritonUnavailable",
    "find_tritonserver",
    "tritonserver_command",
]
