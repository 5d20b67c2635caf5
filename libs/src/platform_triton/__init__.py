"""Triton for the platform: the server launch command, embedding, generation and reranker
clients, errors."""

from __future__ import annotations

from platform_triton.client import TritonEmbeddingClient
from platform_triton.errors import (
    PlatformTritonError,
    TritonBinaryMissing,
    TritonInferenceError,
    TritonUnavailable,
)
from platform_triton.generation import (
    Completion,
    GenerationUsage,
    TokenCounts,
    TritonGenerationClient,
)
from platform_triton.reranker import TritonRerankerClient
from platform_triton.server import find_tritonserver, tritonserver_command

__all__ = [
    "Completion",
    "GenerationUsage",
    "PlatformTritonError",
    "TokenCounts",
    "TritonBinaryMissing",
    "TritonEmbeddingClient",
    "TritonGenerationClient",
    "TritonInferenceError",
    "TritonRerankerClient",
    "TritonUnavailable",
    "find_tritonserver",
    "tritonserver_command",
]
