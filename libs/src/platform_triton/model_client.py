"""What every client of one Triton model shares: a lazily opened gRPC channel, readiness,
closing, and which gRPC statuses mean the server could not answer."""

from __future__ import annotations

import grpc
from tritonclient.grpc.aio import InferenceServerClient

# gRPC status codes that mean "could not get an answer" rather than "the answer is no".
UNAVAILABLE_STATUSES = frozenset(
    {
        str(grpc.StatusCode.UNAVAILABLE),
        str(grpc.StatusCode.DEADLINE_EXCEEDED),
        str(grpc.StatusCode.CANCELLED),
        str(grpc.StatusCode.RESOURCE_EXHAUSTED),
    }
)
_READY_TIMEOUT_S = 2.0


def grpc_target(url: str) -> str:
    """Accept `host:port` or `grpc://host:port`; tritonclient wants the bare target."""
    return url.removeprefix("grpc://")


class TritonModelClient:
    """A client of one model on one Triton server, over gRPC."""

    def __init__(self, *, url: str, model: str, timeout_s: float) -> None:
        """Store settings; the gRPC channel opens lazily inside the caller's event loop."""
        self._url = grpc_target(url)
        self._model = model
        self._timeout_s = timeout_s
        # grpc.aio channels bind to the loop that first uses them, so creating one here would
        # break callers that construct the client outside (or before) the loop that awaits it.
        self._client: InferenceServerClient | None = None

    def _grpc(self) -> InferenceServerClient:
        """Return the underlying tritonclient, creating it on first use."""
        if self._client is None:
            self._client = InferenceServerClient(url=self._url)
        return self._client

    async def is_ready(self) -> bool:
        """Return True when the server is live and the model is ready; never raises."""
        try:
            client = self._grpc()
            return bool(
                await client.is_server_live(client_timeout=_READY_TIMEOUT_S)
                and await client.is_model_ready(self._model, client_timeout=_READY_TIMEOUT_S)
            )
        except Exception:  # noqa: BLE001 - readiness probes report, they do not fail
            return False

    async def close(self) -> None:
        """Close the gRPC channel; the client may be used again afterwards (a new channel opens)."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()
