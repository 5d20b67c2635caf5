"""Async gRPC client for the Triton text_embedding model; errors map to platform_triton types."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import grpc
import numpy as np
from tritonclient.grpc import InferInput, InferRequestedOutput
from tritonclient.utils import InferenceServerException

from platform_triton.errors import TritonInferenceError, TritonUnavailable
from platform_triton.model_client import UNAVAILABLE_STATUSES, TritonModelClient

INPUT_NAME = "TEXT"
OUTPUT_NAME = "EMBEDDING"

T = TypeVar("T")


class TritonEmbeddingClient(TritonModelClient):
    """Embed texts through a Triton text_embedding model over gRPC."""

    def __init__(
        self,
        *,
        url: str,
        model: str = "text_embedding",
        timeout_s: float = 10.0,
        max_batch: int = 64,
    ) -> None:
        """Store settings; the gRPC channel opens lazily inside the caller's event loop."""
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        super().__init__(url=url, model=model, timeout_s=timeout_s)
        self._max_batch = max_batch
        self._dim: int | None = None

    async def embed(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        """Return float32 [len(texts), dim] embeddings; max_batch-sized requests run at once."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        deadline = self._timeout_s if timeout_s is None else timeout_s
        if not texts:
            return np.empty((0, await self._embedding_dim(deadline)), dtype=np.float32)
        batches = [texts[i : i + self._max_batch] for i in range(0, len(texts), self._max_batch)]
        # return_exceptions lets every batch finish (they share one deadline), so none is left
        # running unobserved when another fails; the first failure is then raised as-is.
        results = await asyncio.gather(
            *(self._infer(batch, deadline) for batch in batches), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return np.concatenate(results, axis=0)

    async def _infer(self, texts: Sequence[str], timeout_s: float) -> np.ndarray:
        """Send one batch (<= max_batch texts) and return its embeddings."""
        # "replace" only matters for lone surrogates, which UTF-8 cannot carry.
        payload = np.array(
            [t.encode("utf-8", errors="replace") for t in texts], dtype=np.object_
        ).reshape(-1, 1)
        text_input = InferInput(INPUT_NAME, list(payload.shape), "BYTES")
        text_input.set_data_from_numpy(payload)
        result = await self._call(
            self._grpc().infer(
                self._model,
                [text_input],
                outputs=[InferRequestedOutput(OUTPUT_NAME)],
                client_timeout=timeout_s,
            )
        )
        embeddings = result.as_numpy(OUTPUT_NAME)
        if embeddings is None or embeddings.shape[0] != len(texts):
            raise TritonInferenceError(
                f"model {self._model} returned no {OUTPUT_NAME} for {len(texts)} texts"
            )
        return embeddings.astype(np.float32, copy=False)

    async def _embedding_dim(self, timeout_s: float) -> int:
        """Read (once) the embedding width from the model metadata."""
        if self._dim is None:
            meta = await self._call(
                self._grpc().get_model_metadata(self._model, client_timeout=timeout_s)
            )
            output = next((o for o in meta.outputs if o.name == OUTPUT_NAME), None)
            if output is None:
                raise TritonInferenceError(f"model {self._model} has no output {OUTPUT_NAME}")
            self._dim = int(output.shape[-1])
        return self._dim

    async def _call(self, call: Awaitable[T]) -> T:
        """Await a tritonclient call, translating its errors to platform_triton errors."""
        try:
            return await call
        except InferenceServerException as exc:
            message = f"triton {self._url} model {self._model}: {exc.message()}"
            if exc.status() in UNAVAILABLE_STATUSES:
                raise TritonUnavailable(message) from exc
            raise TritonInferenceError(message) from exc
        except grpc.RpcError as exc:
            # Some channel failures surface as raw RpcError rather than InferenceServerException.
            raise TritonUnavailable(f"triton {self._url}: {exc}") from exc
        except (TimeoutError, OSError) as exc:
            raise TritonUnavailable(f"triton {self._url}: {exc!r}") from exc
