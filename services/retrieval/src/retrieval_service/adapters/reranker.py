"""The second stage's model: a Triton reranker (the reranker contract), or a fake for tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from platform_triton.errors import PlatformTritonError
from platform_triton.reranker import TritonRerankerClient

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ("FunctionReranker", "Reranker", "RerankerError", "TritonReranker")


class RerankerError(Exception):
    """The reranker gave no usable scores (down, timed out, refused); search falls back."""


class Reranker(Protocol):
    """Scores passages for a query; higher is more relevant."""

    @property
    def name(self) -> str:
        """The model's name, for logs."""
        ...

    async def score(self, query: str, passages: Sequence[str], *, timeout_s: float) -> list[float]:
        """One score per passage, in order; RerankerError when there are none."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...


class TritonReranker:
    """A reranker model on Triton (services/retrieval/engine/README.md), over gRPC."""

    def __init__(self, *, url: str, model: str) -> None:
        self._client = TritonRerankerClient(url=url, model=model)

    @property
    def name(self) -> str:
        """The Triton model's name."""
        return self._client.model

    async def score(self, query: str, passages: Sequence[str], *, timeout_s: float) -> list[float]:
        """One Triton call; every Triton failure becomes RerankerError."""
        try:
            return await self._client.score(query, passages, timeout_s=timeout_s)
        except PlatformTritonError as error:
            raise RerankerError(str(error)) from error

    async def is_ready(self) -> bool:
        """Whether Triton is live and the model loaded (reported, never gating readiness)."""
        return await self._client.is_ready()

    async def close(self) -> None:
        """Close the gRPC channel."""
        await self._client.close()


class FunctionReranker:
    """In-process reranker for unit tests: scores from a function of (query, passage)."""

    def __init__(self, scorer: Callable[[str, str], float], *, name: str = "function") -> None:
        self._scorer = scorer
        self._name = name
        self.calls: list[tuple[str, list[str]]] = []

    @property
    def name(self) -> str:
        """The name given."""
        return self._name

    async def score(self, query: str, passages: Sequence[str], *, timeout_s: float) -> list[float]:
        """Apply the function; an exception it raises becomes RerankerError."""
        self.calls.append((query, list(passages)))
        try:
            return [float(self._scorer(query, p)) for p in passages]
        except Exception as error:  # stands in for any model failure
            raise RerankerError(str(error)) from error

    async def close(self) -> None:
        """Nothing to release."""
