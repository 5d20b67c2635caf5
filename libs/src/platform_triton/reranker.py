"""Async gRPC client of a Triton reranker: any model serving the reranker contract.

The contract (services/retrieval/engine/README.md): inputs QUERY (string, [1]) and PASSAGES
(string, [-1]), output SCORES (fp32, [-1]), one score per passage, higher = more relevant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import numpy as np
from tritonclient.grpc import InferInput, InferRequestedOutput
from tritonclient.utils import InferenceServerException

from platform_triton.errors import TritonInferenceError, TritonUnavailable
from platform_triton.model_client import UNAVAILABLE_STATUSES, TritonModelClient

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ("OUTPUT_NAME", "PASSAGES_INPUT", "QUERY_INPUT", "TritonRerankerClient")

QUERY_INPUT = "QUERY"
PASSAGES_INPUT = "PASSAGES"
OUTPUT_NAME = "SCORES"


def _strings(name: str, values: Sequence[str]) -> InferInput:
    # "replace" only matters for lone surrogates, which UTF-8 cannot carry.
    payload = np.array([v.encode("utf-8", errors="replace") for v in values], dtype=np.object_)
    tensor = InferInput(name, [len(values)], "BYTES")
    tensor.set_data_from_numpy(payload)
    return tensor


class TritonRerankerClient(TritonModelClient):
    """Score passages for a query with one reranker model over gRPC."""

    def __init__(self, *, url: str, model: str, timeout_s: float = 2.0) -> None:
        """Store settings; the gRPC channel opens lazily inside the caller's event loop."""
        super().__init__(url=url, model=model, timeout_s=timeout_s)

    @property
    def model(self) -> str:
        """The Triton model this client asks."""
        return self._model

    async def score(
        self, query: str, passages: Sequence[str], *, timeout_s: float | None = None
    ) -> list[float]:
        """One score per passage, in their order; TritonUnavailable or TritonInferenceError."""
        if isinstance(passages, str):
            raise TypeError("score() takes a sequence of passages, not a single str")
        if not passages:
            return []
        deadline = self._timeout_s if timeout_s is None else timeout_s
        message = f"triton {self._url} model {self._model}"
        try:
            result = await self._grpc().infer(
                self._model,
                [_strings(QUERY_INPUT, [query]), _strings(PASSAGES_INPUT, passages)],
                outputs=[InferRequestedOutput(OUTPUT_NAME)],
                client_timeout=deadline,
            )
        except InferenceServerException as exc:
            if exc.status() in UNAVAILABLE_STATUSES:
                raise TritonUnavailable(f"{message}: {exc.message()}") from exc
            raise TritonInferenceError(f"{message}: {exc.message()}") from exc
        except grpc.RpcError as exc:
            # Some channel failures surface as raw RpcError rather than InferenceServerException.
            raise TritonUnavailable(f"{message}: {exc}") from exc
        except (TimeoutError, OSError) as exc:
            raise TritonUnavailable(f"{message}: {exc!r}") from exc
        scores = result.as_numpy(OUTPUT_NAME)
        if scores is None or scores.reshape(-1).shape[0] != len(passages):
            raise TritonInferenceError(
                f"{message} returned {None if scores is None else scores.shape} {OUTPUT_NAME} "
                f"for {len(passages)} passages"
            )
        values = scores.reshape(-1).astype(np.float64)
        if not np.isfinite(values).all():
            raise TritonInferenceError(f"{message} returned a score that is not finite")
        return values.tolist()
