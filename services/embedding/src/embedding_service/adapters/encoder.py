"""The engine behind a Protocol, so handlers do not know it is Triton."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from platform_grpc import DependencyUnavailable, InvalidArgument
from platform_triton import TritonEmbeddingClient, TritonInferenceError, TritonUnavailable

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np


class Encoder(Protocol):
    """Texts in, L2-normalized float32 vectors out."""

    async def encode(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        """Return one vector per text."""
        ...

    async def is_ready(self) -> bool:
        """Whether the engine can serve now."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class TritonEncoder:
    """The embedding engine on Triton Inference Server."""

    def __init__(self, client: TritonEmbeddingClient) -> None:
        self._client = client

    async def encode(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        """Embed through Triton; map its errors to the platform's."""
        try:
            return await self._client.embed(texts, timeout_s=timeout_s)
        except TritonUnavailable as exc:
            raise DependencyUnavailable(f"embedding engine unavailable: {exc}") from exc
        except TritonInferenceError as exc:
            raise InvalidArgument.field("texts", f"the engine rejected the input: {exc}") from exc

    async def is_ready(self) -> bool:
        """Server live and model loaded."""
        return await self._client.is_ready()

    async def close(self) -> None:
        """Close the gRPC channel to Triton."""
        await self._client.close()
