"""Async gRPC client for the Triton text_generation model: tokens as they are generated.

The model is decoupled: one request on Triton's bidirectional stream (ModelStreamInfer) gets
one response per token (output TEXT), then a final response that carries PROMPT_TOKENS,
COMPLETION_TOKENS and FINISH_REASON, or an error response. Errors map to platform_triton types.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np
from tritonclient.grpc import InferInput, InferResult
from tritonclient.utils import InferenceServerException

from platform_triton.errors import TritonInferenceError, TritonUnavailable
from platform_triton.model_client import UNAVAILABLE_STATUSES, TritonModelClient

#: A conversation: OpenAI-style messages, role "system", "user" or "assistant".
Messages = Sequence[Mapping[str, str]]


@dataclass(frozen=True)
class GenerationUsage:
    """The final item of a stream: llama.cpp's token counts and why generation stopped."""

    prompt_tokens: int
    completion_tokens: int
    #: "stop" (end of answer or a stop string) or "length" (max_tokens or the context's end).
    finish_reason: str


@dataclass(frozen=True)
class TokenCounts:
    """The model's own token count of each text, and its context window in tokens."""

    counts: list[int]
    n_ctx: int


@dataclass(frozen=True)
class Completion:
    """A whole completion: the concatenated text and its usage."""

    text: str
    usage: GenerationUsage


def _bytes_input(name: str, values: Sequence[str]) -> InferInput:
    """A BYTES input of shape [len(values)]."""
    array = np.array([v.encode("utf-8") for v in values], dtype=np.object_)
    tensor = InferInput(name, [len(values)], "BYTES")
    tensor.set_data_from_numpy(array)
    return tensor


def _scalar_input(name: str, value: float, datatype: str, dtype: type) -> InferInput:
    """A one-element numeric input."""
    tensor = InferInput(name, [1], datatype)
    tensor.set_data_from_numpy(np.array([value], dtype=dtype))
    return tensor


def _first(result: InferResult, name: str) -> Any:
    """The first element of an output, or None when the response lacks it."""
    values = result.as_numpy(name)
    return None if values is None or values.size == 0 else values.reshape(-1)[0]


def _text(value: Any) -> str:
    """Decode a BYTES element."""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


class TritonGenerationClient(TritonModelClient):
    """Stream chat completions from a Triton text_generation model over gRPC."""

    def __init__(
        self, *, url: str, model: str = "text_generation", timeout_s: float = 120.0
    ) -> None:
        """Store settings; the gRPC channel opens lazily inside the caller's event loop."""
        super().__init__(url=url, model=model, timeout_s=timeout_s)

    def _request(
        self,
        prompt: str | Messages,
        *,
        max_tokens: int,
        temperature: float | None,
        stop: Sequence[str],
    ) -> dict[str, Any]:
        """Build the stream_infer request dict; a str prompt is one user message."""
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        inputs = [
            _bytes_input("PROMPT", [json.dumps([dict(m) for m in messages])]),
            _scalar_input("MAX_TOKENS", max_tokens, "INT32", np.int32),
        ]
        if temperature is not None:
            inputs.append(_scalar_input("TEMPERATURE", temperature, "FP32", np.float32))
        if stop:
            inputs.append(_bytes_input("STOP", list(stop)))
        return {"model_name": self._model, "inputs": inputs, "request_id": uuid.uuid4().hex}

    async def stream(
        self,
        prompt: str | Messages,
        *,
        max_tokens: int,
        temperature: float | None = None,
        stop: Sequence[str] = (),
        timeout_s: float | None = None,
    ) -> AsyncIterator[str | GenerationUsage]:
        """Yield each token's text as it is generated, then one GenerationUsage.

        prompt is a str (one user message) or a list of {"role", "content"} messages.
        temperature None takes the model's default; 0 is greedy and deterministic. timeout_s
        bounds the whole stream. Leaving the loop early cancels the request on the server.
        """
        if isinstance(stop, str):
            raise TypeError("stop takes a sequence of strings, not a single str")
        request = self._request(prompt, max_tokens=max_tokens, temperature=temperature, stop=stop)
        async with contextlib.aclosing(self._results(request, timeout_s)) as results:
            async for result in results:
                finish_reason = _first(result, "FINISH_REASON")
                if finish_reason is None:
                    yield _text(_first(result, "TEXT"))
                    continue
                yield GenerationUsage(
                    prompt_tokens=int(_first(result, "PROMPT_TOKENS")),
                    completion_tokens=int(_first(result, "COMPLETION_TOKENS")),
                    finish_reason=_text(finish_reason),
                )
                return
        raise TritonUnavailable(f"triton {self._url}: stream ended before the final response")

    async def _results(
        self, request: dict[str, Any], timeout_s: float | None
    ) -> AsyncIterator[InferResult]:
        """One request's responses, in order; error responses and transport failures raise.

        Closing this iterator (aclosing) ends the request: after the final response that only
        drops the idle stream; before it (an error, a deadline, a caller leaving the loop)
        Triton sees the request cancelled and the model stops generating.
        """
        done = asyncio.Event()

        async def requests() -> AsyncIterator[dict[str, Any]]:
            yield request
            # Keep our side of the stream open until the final response: the request is over
            # only then, and closing early could end the stream before it arrives.
            await done.wait()

        deadline = self._timeout_s if timeout_s is None else timeout_s
        responses = self._grpc().stream_infer(requests(), stream_timeout=deadline)
        try:
            async for result, error in self._mapped(responses):
                if error is not None:
                    raise TritonInferenceError(
                        f"triton {self._url} model {self._model}: {error.message()}"
                    ) from error
                yield result
        finally:
            done.set()
            responses.cancel()

    async def _mapped(
        self, responses: AsyncIterator[tuple[InferResult, InferenceServerException | None]]
    ) -> AsyncIterator[tuple[InferResult, InferenceServerException | None]]:
        """Iterate the stream, translating transport failures to platform_triton errors."""
        iterator = aiter(responses)
        while True:
            try:
                item = await anext(iterator)
            except StopAsyncIteration:
                return
            except grpc.RpcError as exc:
                code = exc.code() if isinstance(exc, grpc.aio.AioRpcError) else None
                details = exc.details() if isinstance(exc, grpc.aio.AioRpcError) else exc
                message = f"triton {self._url} model {self._model}: {code} {details}"
                if code is None or str(code) in UNAVAILABLE_STATUSES:
                    raise TritonUnavailable(message) from exc
                raise TritonInferenceError(message) from exc
            except (TimeoutError, OSError) as exc:
                raise TritonUnavailable(f"triton {self._url}: {exc!r}") from exc
            yield item

    async def count_tokens(
        self, texts: Sequence[str], *, timeout_s: float | None = None
    ) -> TokenCounts:
        """Count each text's tokens with the model's tokenizer (the model's tokenize mode)."""
        if not texts:
            raise ValueError("count_tokens takes at least one text")
        request = {
            "model_name": self._model,
            "inputs": [_bytes_input("TOKENIZE", list(texts))],
            "request_id": uuid.uuid4().hex,
        }
        async with contextlib.aclosing(self._results(request, timeout_s)) as results:
            async for result in results:
                counts = result.as_numpy("TOKEN_COUNTS")
                return TokenCounts(
                    counts=[int(c) for c in counts.reshape(-1)],
                    n_ctx=int(_first(result, "N_CTX")),
                )
        raise TritonUnavailable(f"triton {self._url}: stream ended before the token counts")

    async def complete(
        self,
        prompt: str | Messages,
        *,
        max_tokens: int,
        temperature: float | None = None,
        stop: Sequence[str] = (),
        timeout_s: float | None = None,
    ) -> Completion:
        """Collect a whole streamed completion."""
        parts: list[str] = []
        async for item in self.stream(
            prompt, max_tokens=max_tokens, temperature=temperature, stop=stop, timeout_s=timeout_s
        ):
            if isinstance(item, GenerationUsage):
                return Completion(text="".join(parts), usage=item)
            parts.append(item)
        raise TritonUnavailable(f"triton {self._url}: stream ended before the final response")
