"""Language models behind one Protocol: Triton's text_generation, and any OpenAI-compatible API.

Both stream a chat completion token by token and end with the engine's own usage counts. Their
failures map to DependencyUnavailable (UNAVAILABLE), or InvalidArgument for a request the model
refuses as sent.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from platform_grpc import DependencyUnavailable
from platform_triton import GenerationUsage, TritonInferenceError, TritonUnavailable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from platform_triton import TritonGenerationClient

#: Characters per token assumed where an endpoint offers no tokenizer: 3 over-counts English
#: (about 4 per token), so a packing by it never overflows the window.
CHARS_PER_TOKEN_ESTIMATE = 3


@dataclass(frozen=True)
class ModelUsage:
    """The engine's own counts for one completion."""

    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class ModelClient(Protocol):
    """A chat model that streams tokens and counts them with its own tokenizer."""

    #: The model's name as answers and the price table name it.
    model: str

    def stream(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float
    ) -> AsyncIterator[str | ModelUsage]:
        """Token texts as generated, then one ModelUsage."""
        ...

    async def count_tokens(self, texts: Sequence[str]) -> tuple[list[int], int]:
        """Each text's token count and the context window, in tokens."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class TritonModel:
    """The text_generation model on Triton (llama.cpp), tokens over Triton's gRPC stream."""

    def __init__(self, client: TritonGenerationClient, *, model: str) -> None:
        self._client = client
        self.model = model

    async def stream(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float
    ) -> AsyncIterator[str | ModelUsage]:
        """Token texts, then the counts llama.cpp reported."""
        try:
            async for item in self._client.stream(
                messages, max_tokens=max_tokens, temperature=temperature
            ):
                if isinstance(item, GenerationUsage):
                    yield ModelUsage(item.prompt_tokens, item.completion_tokens, item.finish_reason)
                else:
                    yield item
        except TritonUnavailable as exc:
            raise DependencyUnavailable(f"language model unavailable: {exc}") from exc
        except TritonInferenceError as exc:
            raise DependencyUnavailable(f"language model failed: {exc}") from exc

    async def count_tokens(self, texts: Sequence[str]) -> tuple[list[int], int]:
        """llama.cpp's own tokenizer, through the model's tokenize mode."""
        try:
            counted = await self._client.count_tokens(texts)
        except (TritonUnavailable, TritonInferenceError) as exc:
            raise DependencyUnavailable(f"language model unavailable: {exc}") from exc
        return counted.counts, counted.n_ctx

    async def close(self) -> None:
        """Close the gRPC channel."""
        await self._client.close()


class OpenAIModel:
    """Any OpenAI-compatible chat endpoint (vLLM, NIM, llama.cpp's server, a hosted API)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        context_tokens: int,
        timeout_s: float = 120.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout_s
        )
        self.model = model
        self._context_tokens = context_tokens

    async def stream(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float
    ) -> AsyncIterator[str | ModelUsage]:
        """Server-sent chat.completion.chunk events; usage from the last one."""
        body = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        usage: dict[str, Any] = {}
        finish_reason = ""
        try:
            async with self._http.stream("POST", "chat/completions", json=body) as response:
                if response.status_code >= 400:
                    detail = (await response.aread()).decode(errors="replace")[:300]
                    raise DependencyUnavailable(
                        f"model endpoint answered {response.status_code}: {detail}"
                    )
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or ():
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            yield text
                        finish_reason = choice.get("finish_reason") or finish_reason
        except httpx.HTTPError as exc:
            raise DependencyUnavailable(f"model endpoint unreachable: {exc!r}") from exc
        yield ModelUsage(
            int(usage.get("prompt_tokens", 0)),
            int(usage.get("completion_tokens", 0)),
            finish_reason or "stop",
        )

    async def count_tokens(self, texts: Sequence[str]) -> tuple[list[int], int]:
        """An over-estimate: the OpenAI API has no tokenize call, and models differ."""
        counts = [math.ceil(len(t) / CHARS_PER_TOKEN_ESTIMATE) for t in texts]
        return counts, self._context_tokens

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()
