"""Vectors the index already holds, by content hash: an unchanged chunk is not embedded again.

The index (the retrieval service) keeps every chunk's vector with the hash of the engine and
the exact text that produced it (`contracts.passages.content_hash`). Asking it first is an
optimisation, never a dependency: when retrieval cannot answer, every chunk is embedded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import grpc
import numpy as np

from contracts.rpc import retrieval_pb2, retrieval_pb2_grpc
from platform_grpc import create_channel
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Sequence

_log = get_logger(__name__)
#: Hashes per call, as retrieval's LookupVectors allows.
_HASHES_PER_CALL = 4096


class StoredVectors(Protocol):
    """Looks up vectors by content hash within one tenant."""

    async def lookup(self, tenant: str, content_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors found, by hash; hashes not found are absent. Never raises."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class NoStoredVectors:
    """Reuse turned off: every chunk goes to the engine."""

    async def lookup(self, tenant: str, content_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Nothing is ever found."""
        return {}

    async def close(self) -> None:
        """Nothing to release."""


class RetrievalStoredVectors:
    """Retrieval's LookupVectors, bounded by a short deadline."""

    def __init__(self, address: str, *, timeout_s: float = 5.0) -> None:
        # A lookup is a read: safe to retry while retrieval restarts.
        self._channel = create_channel(address, idempotent=True)
        self._stub = retrieval_pb2_grpc.RetrievalStub(self._channel)
        self._timeout_s = timeout_s

    async def lookup(self, tenant: str, content_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors found, by hash; an unavailable index finds nothing."""
        found: dict[str, np.ndarray] = {}
        hashes = list(dict.fromkeys(content_hashes))
        for start in range(0, len(hashes), _HASHES_PER_CALL):
            request = retrieval_pb2.LookupVectorsRequest(
                tenant=tenant, content_hashes=hashes[start : start + _HASHES_PER_CALL]
            )
            try:
                response = await self._stub.LookupVectors(request, timeout=self._timeout_s)
            except grpc.aio.AioRpcError as error:
                _log.warning(
                    "stored_vectors_unavailable",
                    tenant=tenant,
                    code=error.code().name,
                    detail=error.details(),
                    hashes=len(hashes),
                )
                return found
            # Hashes name the engine: another engine's vectors never match them.
            found.update(
                (stored.content_hash, np.frombuffer(stored.vector, dtype="<f4"))
                for stored in response.vectors
            )
        return found

    async def close(self) -> None:
        """Close the channel to retrieval."""
        await self._channel.close()
