"""The Triton text_generation model (SmolLM2 on llama.cpp), streamed over gRPC from the stack."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import numpy as np
import pytest
from tritonclient.grpc import InferInput

from platform_stack import Stack
from platform_stack.config import free_port
from platform_triton import (
    Completion,
    GenerationUsage,
    TritonGenerationClient,
    TritonInferenceError,
    TritonUnavailable,
)

pytestmark = pytest.mark.integration

MODEL = "text_generation"
PROMPT = "Name three colours of the rainbow."
# Above the model's n_ctx (2048) once tokenized: one token per " word".
OVER_LONG_PROMPT = "word " * 3000
DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def triton_url(stack: Stack) -> str:
    """gRPC address of the stack's Triton."""
    return stack.config.address("triton")


def _run(triton_url: str, body: Callable[[TritonGenerationClient], object]) -> object:
    """Run body(client) in a fresh event loop and close the client afterwards."""

    async def run() -> object:
        client = TritonGenerationClient(url=triton_url, timeout_s=DEADLINE_S)
        try:
            return await body(client)  # type: ignore[misc]
        finally:
            await client.close()

    return asyncio.run(run())


def test_tokens_arrive_one_response_each_before_the_final_usage(triton_url: str) -> None:
    async def body(client: TritonGenerationClient) -> list[tuple[float, object]]:
        arrivals = []
        async for item in client.stream(PROMPT, max_tokens=16, temperature=0):
            arrivals.append((time.monotonic(), item))
        return arrivals

    arrivals = _run(triton_url, body)
    items = [item for _, item in arrivals]
    texts, usage = items[:-1], items[-1]
    # A non-decoupled model can send one response only: several prove token streaming.
    assert len(texts) > 1 and all(isinstance(t, str) and t for t in texts)
    assert isinstance(usage, GenerationUsage)
    assert usage.prompt_tokens > 0
    assert len(texts) <= usage.completion_tokens <= 16
    assert usage.finish_reason in {"stop", "length"}
    assert arrivals[0][0] < arrivals[-1][0]


def test_temperature_zero_is_deterministic(triton_url: str) -> None:
    async def body(client: TritonGenerationClient) -> tuple[Completion, Completion]:
        messages = [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": PROMPT},
        ]
        first = await client.complete(messages, max_tokens=24, temperature=0)
        second = await client.complete(messages, max_tokens=24, temperature=0)
        return first, second

    first, second = _run(triton_url, body)
    assert first.text and first == second


def test_over_long_prompt_is_refused_and_the_next_request_is_served(triton_url: str) -> None:
    async def body(client: TritonGenerationClient) -> tuple[Exception, Completion]:
        with pytest.raises(TritonInferenceError) as refused:
            await client.complete(OVER_LONG_PROMPT, max_tokens=8, temperature=0)
        return refused.value, await client.complete(PROMPT, max_tokens=8, temperature=0)

    refused, after = _run(triton_url, body)
    assert "exceeds the available context size" in str(refused)
    assert after.text and after.usage.completion_tokens > 0


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("not json", "PROMPT is not JSON"),
        ("[]", "non-empty JSON array"),
        ('[{"role": "robot", "content": "hi"}]', "PROMPT message 0"),
    ],
)
def test_malformed_prompt_gets_an_error_response(
    triton_url: str, prompt: str, message: str
) -> None:
    async def body(client: TritonGenerationClient) -> list[str]:
        text = InferInput("PROMPT", [1], "BYTES")
        text.set_data_from_numpy(np.array([prompt.encode()], dtype=np.object_))
        max_tokens = InferInput("MAX_TOKENS", [1], "INT32")
        max_tokens.set_data_from_numpy(np.array([8], dtype=np.int32))
        done = asyncio.Event()

        async def requests():
            yield {"model_name": MODEL, "inputs": [text, max_tokens]}
            await done.wait()

        responses = client._grpc().stream_infer(requests(), stream_timeout=DEADLINE_S)
        errors = []
        async for _, error in responses:
            errors.append(str(error))
            break
        done.set()
        responses.cancel()
        return errors

    errors = _run(triton_url, body)
    assert len(errors) == 1 and message in errors[0]


def test_leaving_the_stream_cancels_generation(
    request: pytest.FixtureRequest, triton_url: str, read_log: Callable[[str], str]
) -> None:
    async def body(client: TritonGenerationClient) -> tuple[int, Completion]:
        received = 0
        async for _ in client.stream(
            "Write a long story about a lighthouse keeper.", max_tokens=1000, temperature=0.7
        ):
            received += 1
            if received == 2:
                break
        return received, await client.complete(PROMPT, max_tokens=4, temperature=0)

    received, after = _run(triton_url, body)
    assert received == 2 and after.usage.completion_tokens > 0
    if request.config.getoption("--stack") != "external":
        # model.py logs each request it stopped because Triton reported it cancelled.
        assert "cancelled after" in read_log("triton")


def test_unreachable_server_is_unavailable() -> None:
    url = f"127.0.0.1:{free_port()}"

    async def body(client: TritonGenerationClient) -> None:
        with pytest.raises(TritonUnavailable):
            await client.complete(PROMPT, max_tokens=4, timeout_s=5)

    _run(url, body)


def test_prompt_messages_travel_as_json(triton_url: str) -> None:
    # The str form is one user message: the same request as the explicit list.
    async def body(client: TritonGenerationClient) -> tuple[Completion, Completion]:
        as_text = await client.complete(PROMPT, max_tokens=8, temperature=0)
        as_list = await client.complete(
            [{"role": "user", "content": PROMPT}], max_tokens=8, temperature=0
        )
        return as_text, as_list

    as_text, as_list = _run(triton_url, body)
    assert as_text == as_list
