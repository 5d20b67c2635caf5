"""Answer cache latency through the whole stack: a miss, an exact hit and a semantic hit.

    .venv/bin/python loadtests/semantic_cache_bench.py [--rounds 3] [--model-pairs 4] \
        [--output loadtests/results/semantic_cache_bench.md]

Starts a stack on free ports, ingests examples/documents, and for every rewording pair of
evaluation/answers/paraphrases.jsonl over that corpus asks `a` (a miss: computed), `a`
again (an exact hit) and `b` (a semantic hit, when the cache serves it: only asks whose
response says so are counted as one). Each round uses another top_k, a scope of its own, so
every round starts cold. Pairs run with extractive@1 and, for --model-pairs of them, with
grounded@1 (SmolLM2 on Triton), whose misses cost what a cache is for. All figures come from
one run and are compared as ratios (the machine is shared).
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

from contracts.rpc import assistant_pb2, assistant_pb2_grpc, common_pb2
from platform_stack import Stack, StackConfig
from platform_stack.documents import push_documents, wait_for_indexed

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "evaluation" / "answers" / "paraphrases.jsonl"
KINDS = {
    assistant_pb2.CACHE_RESULT_MISS: "miss",
    assistant_pb2.CACHE_RESULT_EXACT_HIT: "exact hit",
    assistant_pb2.CACHE_RESULT_SEMANTIC_HIT: "semantic hit",
}


def main() -> None:
    """Start a stack, ask, print (and write) the markdown."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="cold rounds (one top_k each)")
    parser.add_argument("--model-pairs", type=int, default=4, help="pairs asked with grounded@1")
    parser.add_argument("--output", type=Path, help="write the markdown here too")
    args = parser.parse_args()
    pairs = [
        (row["a"], row["b"])
        for row in map(json.loads, PAIRS.read_text().splitlines())
        if row["kind"] == "rewording" and row["source"] != "python-faq"
    ]
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as state:
        config = StackConfig.from_env().with_free_ports(
            Path(state), redis_url="redis://127.0.0.1:6379/13"
        )
        with Stack(config) as stack:
            tenant = f"semcache{int(time.time())}"
            _ingest(stack, tenant)
            principal = common_pb2.Principal(tenant=tenant, user_id="bench")
            with grpc.insecure_channel(stack.config.address("generation")) as channel:
                stub = assistant_pb2_grpc.AssistantStub(channel)
                tables = [
                    _measure(stub, principal, pairs, "extractive@1", rounds=args.rounds),
                    _measure(stub, principal, pairs[: args.model_pairs], "grounded@1", rounds=1),
                ]
    text = "\n".join(
        [
            "# Answer cache: miss vs exact hit vs semantic hit (one run)",
            "",
            "Reproduce: `.venv/bin/python loadtests/semantic_cache_bench.py --rounds "
            f"{args.rounds} --model-pairs {args.model_pairs} --output "
            "loadtests/results/semantic_cache_bench.md` (after `make models`). Load average "
            f"before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 vCPUs, shared).",
            "",
            *tables,
        ]
    )
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


def _ingest(stack: Stack, tenant: str) -> None:
    documents = [
        {**json.loads(p.read_text()), "tenant": tenant, "access_groups": []}
        for p in sorted((ROOT / "examples/documents").glob("*.json"))
    ]
    bootstrap = stack.config.kafka_bootstrap
    asyncio.run(push_documents(bootstrap, documents))
    expected = {(tenant, d["id"], d.get("version", 0)) for d in documents}
    asyncio.run(wait_for_indexed(bootstrap, expected))


def _measure(
    stub: assistant_pb2_grpc.AssistantStub,
    principal: common_pb2.Principal,
    pairs: list[tuple[str, str]],
    version: str,
    *,
    rounds: int,
) -> str:
    """Ask every pair (a, a, b) per round; latencies grouped by the cache result reported."""
    client: dict[str, list[float]] = {kind: [] for kind in KINDS.values()}
    server: dict[str, list[float]] = {kind: [] for kind in KINDS.values()}
    semantic_misses = 0
    for top_k in range(3, 3 + rounds):
        for a, b in pairs:
            for question in (a, a, b):
                request = assistant_pb2.AskRequest(
                    principal=principal, question=question, prompt_version=version, top_k=top_k
                )
                started = time.perf_counter()
                response = stub.Ask(request, timeout=300)
                elapsed = (time.perf_counter() - started) * 1000
                kind = KINDS.get(response.cache.result)
                if kind is None:
                    continue
                if question is b and kind != "semantic hit":
                    semantic_misses += 1
                client[kind].append(elapsed)
                server[kind].append(response.timings.total_ms)
    miss = statistics.median(client["miss"])
    lines = [
        f"## {version}: {len(pairs)} rewording pairs x {rounds} cold round(s), sequential",
        "",
        f"Paraphrases not served from the semantic cache: {semantic_misses} of "
        f"{len(pairs) * rounds} (counted as misses; answers that found nothing are never "
        "cached).",
        "",
        "| result | asks | client p50 ms | client p95 ms | server total p50 ms "
        "| p50 ratio to a miss | p50 ratio to an exact hit |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    exact = statistics.median(client["exact hit"]) if client["exact hit"] else float("nan")
    for kind, samples in client.items():
        if not samples:
            lines.append(f"| {kind} | 0 | | | | | |")
            continue
        p50 = statistics.median(samples)
        lines.append(
            f"| {kind} | {len(samples)} | {p50:.1f} | {_p95(samples):.1f} "
            f"| {statistics.median(server[kind]):.1f} | {p50 / miss:.3f} | {p50 / exact:.2f} |"
        )
    return "\n".join([*lines, ""])


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
