"""`genai demo`: the whole platform on the sample corpus, with measured timings."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from typing import TYPE_CHECKING

import grpc

from contracts.rpc import assistant_pb2, assistant_pb2_grpc, common_pb2
from platform_stack.config import repo_root
from platform_stack.documents import push_documents, run, wait_for_indexed
from platform_stack.stack import Stack

if TYPE_CHECKING:
    from platform_stack.config import StackConfig

_ASK_TIMEOUT_S = 30.0
#: The model prompt the demo also asks with (SmolLM2-135M-Instruct on the stack's Triton).
_LLM_PROMPT = "grounded@1"
_GENERATE_TIMEOUT_S = 120.0


def run_demo(config: StackConfig, *, keep: bool = False) -> int:
    """Start the stack, ingest examples/documents, ask examples/questions.txt, stop."""
    examples = repo_root() / "examples"
    documents = [json.loads(p.read_text()) for p in sorted((examples / "documents").glob("*.json"))]
    questions = [q for q in (examples / "questions.txt").read_text().splitlines() if q.strip()]

    if not keep:
        # Its own folder, a fresh index and a fresh broker log, so the demo measures a cold
        # ingest (an earlier run's confirmations would read as this one's) and never touches
        # the data of a stack started with `genai up`. With --keep it becomes that stack, so
        # `genai status` and `genai down` find it.
        config = dataclasses.replace(config, state_dir=config.state_dir / "demo")
        shutil.rmtree(config.qdrant_path, ignore_errors=True)
        shutil.rmtree(config.broker_dir, ignore_errors=True)
    started = time.perf_counter()
    stack = Stack(config, detached=keep)
    stack.start()
    _say(f"stack up in {time.perf_counter() - started:.1f} s (logs: {config.logs_dir})")
    try:
        mark = time.perf_counter()
        run(push_documents(config.kafka_bootstrap, documents))
        expected = {(d["tenant"], d["id"], d.get("version", 0)) for d in documents}
        indexed = run(wait_for_indexed(config.kafka_bootstrap, expected, timeout_s=300))
        chunks = sum(e.chunk_count for e in indexed.values())
        _say(
            f"ingested {len(documents)} documents ({chunks} chunks) through Kafka in "
            f"{time.perf_counter() - mark:.2f} s"
        )
        with grpc.insecure_channel(config.address("generation")) as channel:
            stub = assistant_pb2_grpc.AssistantStub(channel)
            for question in questions:
                _ask_twice(stub, question, tenant=documents[0]["tenant"])
                _generate(stub, question, tenant=documents[0]["tenant"])
    finally:
        if not keep:
            stack.stop()
            _say("stack stopped")
    return 0


def _ask_twice(stub: assistant_pb2_grpc.AssistantStub, question: str, *, tenant: str) -> None:
    request = assistant_pb2.AskRequest(
        principal=common_pb2.Principal(tenant=tenant, user_id="demo-user"), question=question
    )
    first, first_ms = _timed(stub, request)
    again, again_ms = _timed(stub, request)
    _say(f"\nQ: {question}\nA: {first.answer}")
    for citation in first.citations:
        _say(
            f"   [{citation.marker}] {citation.title} <{citation.source}> chunk {citation.chunk_id}"
        )
    _say(
        f"   first answer {first_ms:.0f} ms (retrieval {first.timings.retrieval_ms:.0f} ms), "
        f"again {again_ms:.0f} ms from cache={again.cached}; trace {first.trace_id}"
    )


def _generate(stub: assistant_pb2_grpc.AssistantStub, question: str, *, tenant: str) -> None:
    """The same question through the language-model prompt, streamed."""
    request = assistant_pb2.AskRequest(
        principal=common_pb2.Principal(tenant=tenant, user_id="demo-user"),
        question=question,
        prompt_version=_LLM_PROMPT,
    )
    mark = time.perf_counter()
    answer = None
    for event in stub.AskStream(request, timeout=_GENERATE_TIMEOUT_S):
        if event.HasField("completed"):
            answer = event.completed
    if answer is None:
        return
    _say(f"G ({answer.prompt_version}, model {answer.usage.model}): {answer.answer}")
    for citation in answer.citations:
        _say(f"   [{citation.marker}] {citation.title} chunk {citation.chunk_id}")
    timings = answer.timings
    _say(
        f"   streamed in {(time.perf_counter() - mark) * 1000:.0f} ms: first token "
        f"{timings.time_to_first_token_ms:.0f} ms ({timings.before_model_ms:.0f} ms before the "
        f"model), {answer.usage.prompt_tokens} tokens in, {answer.usage.completion_tokens} out, "
        f"USD {answer.usage.cost_usd:.6f}"
        + (f"; flags {', '.join(answer.guardrail_flags)}" if answer.guardrail_flags else "")
    )


def _timed(
    stub: assistant_pb2_grpc.AssistantStub, request: assistant_pb2.AskRequest
) -> tuple[assistant_pb2.AskResponse, float]:
    mark = time.perf_counter()
    response = stub.Ask(request, timeout=_ASK_TIMEOUT_S)
    return response, (time.perf_counter() - mark) * 1000


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - the demo's output is for people
