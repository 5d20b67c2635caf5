"""Model answers through the whole stack: fresh against cached, and what a shared prompt prefix
saves on the time to first token.

    .venv/bin/python loadtests/answer_bench.py [--rounds 5] [--output FILE.md]

Every figure is a ratio against a baseline measured in the same run (the machine is shared):

- asks: `Ask` with `grounded@1` (SmolLM2 on Triton) fresh (bypass_cache) and again from the
  answer cache, against the extractive engine's fresh answer and a gRPC health check;
- prefix caching: the same ~300-token instructions with a different question at the end (the
  prefix llama.cpp keeps from the previous request) against prompts that differ from their
  first words (nothing reusable), streamed from Triton's `text_generation`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from contracts.rpc import assistant_pb2, assistant_pb2_grpc, common_pb2
from platform_stack import Stack, StackConfig
from platform_stack.documents import push_documents, wait_for_indexed
from platform_triton import GenerationUsage, TritonGenerationClient

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "What is the hotel cap per night in London?",
    "Which MFA methods are approved?",
    "What is the restocking fee for non-warranty returns?",
    "How many vacation days do employees get?",
    "What is the daily meal allowance when travelling?",
]
INSTRUCTIONS = (
    "You answer questions about company policies. Quote the policy, name the section, and "
    "say when the policy does not cover the case. " * 12
)


def main() -> None:
    """Start a stack on free ports, measure, print (and write) the markdown."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5, help="repetitions of each measurement")
    parser.add_argument("--output", type=Path, help="write the markdown here too")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as state:
        base = StackConfig.from_env()
        config = base.with_free_ports(Path(state), redis_url="redis://127.0.0.1:6379/13")
        with Stack(config) as stack:
            tenant = f"answers{int(time.time())}"
            asks = _asks(stack, tenant, args.rounds)
            prefix = asyncio.run(_prefix(stack.config.address("triton"), args.rounds))
    text = "\n".join(
        [
            "# Model answers: fresh, cached, and the shared prompt prefix (one run)",
            "",
            "Reproduce: `.venv/bin/python loadtests/answer_bench.py --rounds "
            f"{args.rounds} --output loadtests/results/answer_bench.md` (after `make models`). "
            f"Load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 vCPUs).",
            "",
            asks,
            "",
            prefix,
        ]
    )
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


def _asks(stack: Stack, tenant: str, rounds: int) -> str:
    documents = [
        {**json.loads(p.read_text()), "tenant": tenant, "access_groups": []}
        for p in sorted((ROOT / "examples/documents").glob("*.json"))
    ]
    asyncio.run(push_documents(stack.config.kafka_bootstrap, documents))
    asyncio.run(
        wait_for_indexed(
            stack.config.kafka_bootstrap,
            {(tenant, d["id"], d.get("version", 0)) for d in documents},
        )
    )
    principal = common_pb2.Principal(tenant=tenant, user_id="bench")
    with grpc.insecure_channel(stack.config.address("generation")) as channel:
        assistant = assistant_pb2_grpc.AssistantStub(channel)
        health = health_pb2_grpc.HealthStub(channel)

        def ask(question: str, version: str, *, fresh: bool) -> float:
            started = time.perf_counter()
            assistant.Ask(
                assistant_pb2.AskRequest(
                    principal=principal,
                    question=question,
                    prompt_version=version,
                    bypass_cache=fresh,
                ),
                timeout=300,
            )
            return (time.perf_counter() - started) * 1000

        def check() -> float:
            started = time.perf_counter()
            health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
            return (time.perf_counter() - started) * 1000

        rows = {
            "gRPC health check — baseline": [check() for _ in range(rounds * len(QUESTIONS))],
            "`Ask` extractive@1, fresh": [
                ask(q, "extractive@1", fresh=True) for _ in range(rounds) for q in QUESTIONS
            ],
            "`Ask` grounded@1 (SmolLM2 on Triton), fresh": [
                ask(q, "grounded@1", fresh=True) for _ in range(rounds) for q in QUESTIONS
            ],
            "`Ask` grounded@1, cached": [
                ask(q, "grounded@1", fresh=False) for _ in range(rounds) for q in QUESTIONS
            ],
        }
    base = statistics.median(rows["gRPC health check — baseline"])
    fresh = statistics.median(rows["`Ask` grounded@1 (SmolLM2 on Triton), fresh"])
    lines = [
        f"## Asks: {len(QUESTIONS)} sample-corpus questions x {rounds}, sequential",
        "",
        "| call | p50 ms | p95 ms | p50 ratio to health check | p50 ratio to fresh model answer |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, samples in rows.items():
        p50 = statistics.median(samples)
        lines.append(
            f"| {name} | {p50:.1f} | {_p95(samples):.1f} | {p50 / base:.1f} | {p50 / fresh:.4f} |"
        )
    return "\n".join(lines)


async def _prefix(triton: str, rounds: int) -> str:
    client = TritonGenerationClient(url=triton, timeout_s=300)
    try:

        async def ttft(system: str, question: str) -> tuple[float, int]:
            messages = [
                {"role": "system", "content": system},
                {"role": "user", "content": question},
            ]
            started = time.perf_counter()
            first = None
            async for item in client.stream(messages, max_tokens=8, temperature=0):
                if first is None:
                    first = time.perf_counter() - started
                if isinstance(item, GenerationUsage):
                    return first * 1000, item.prompt_tokens
            raise RuntimeError("no final response")

        await ttft(INSTRUCTIONS, "warm-up")  # the shared prefix is now in llama.cpp's cache
        shared, fresh = [], []
        tokens = 0
        for n in range(rounds * len(QUESTIONS)):
            question = QUESTIONS[n % len(QUESTIONS)] + f" (case {n})"
            # Interleaved, so both sides see the same machine: a prefix that differs from its
            # first word, then the shared one again.
            ms, tokens = await ttft(f"Case {n}: " + INSTRUCTIONS[::-1], question)
            fresh.append(ms)
            ms, _ = await ttft(INSTRUCTIONS, question)
            shared.append(ms)
    finally:
        await client.close()
    base = statistics.median(fresh)
    return "\n".join(
        [
            f"## Prefix caching: ~{tokens}-token prompts, {len(shared)} of each, interleaved",
            "",
            "| prompt | TTFT p50 ms | TTFT p95 ms | ratio |",
            "|---|---:|---:|---:|",
            f"| differs from its first words (nothing reusable) — baseline | {base:.0f} | "
            f"{_p95(fresh):.0f} | 1.00 |",
            f"| same instructions, new question at the end | {statistics.median(shared):.0f} | "
            f"{_p95(shared):.0f} | {statistics.median(shared) / base:.2f} |",
        ]
    )


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
