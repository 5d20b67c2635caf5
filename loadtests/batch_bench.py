"""A batch job's time and cost per item against live asks, and what a running job does to them.

    .venv/bin/python loadtests/batch_bench.py [--items 200] [--live 60] [--model-items 24]
        [--output FILE.md]

One fresh embedded stack on free ports; every figure is measured in the same run (the
machine is shared) and compared as a ratio:

- live: `Ask` one caller at a time, fresh (bypass_cache), on an idle service, cycling through
  five sample-corpus questions;
- batch: a job of the same kind of questions on answers.jobs.v1, fresh, from submit to its
  completed event (time per item = wall time / items), with cost from the completed event;
- live during batch: the same live asks while a second job runs (the live-priority gate);
- the crash window: `unmarked_ms` of every item (result acknowledged, not yet recorded done).

Model answers (grounded@1, SmolLM2 on Triton) are priced at an illustrative $0.15 / $0.60 per
1M input / output tokens (GENERATION_PRICES), so cost per item is visible; local models cost 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import grpc

from contracts import BatchJobCompleted, topics
from contracts.rpc import assistant_pb2, assistant_pb2_grpc, common_pb2
from platform_stack import Stack, StackConfig
from platform_stack.documents import push_documents, push_raw, read_topic, wait_for_indexed

ROOT = Path(__file__).resolve().parents[1]
PRICES = {"text_generation": {"input_per_1m": 0.15, "output_per_1m": 0.6}}
#: Sample-corpus questions the documents answer (examples/documents), asked fresh each time.
QUESTIONS = (
    "What is the hotel cap per night in London?",
    "Which MFA methods are approved?",
    "What is the restocking fee for non-warranty returns?",
    "How many vacation days do employees get?",
    "What is the daily meal allowance when travelling?",
)


def main() -> None:
    """Start a stack, measure, print (and write) the markdown."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200, help="items of each extractive job")
    parser.add_argument("--live", type=int, default=60, help="live asks per measurement")
    parser.add_argument("--model-items", type=int, default=24, help="items of the model job")
    parser.add_argument("--output", type=Path, help="write the markdown here too")
    args = parser.parse_args()
    load = os.getloadavg()
    os.environ["GENERATION_PRICES"] = json.dumps(PRICES)
    with tempfile.TemporaryDirectory() as state:
        config = StackConfig.from_env().with_free_ports(
            Path(state), redis_url="redis://127.0.0.1:6379/12"
        )
        with Stack(config) as stack:
            tenant = f"batch{int(time.time())}"
            _load_documents(stack, tenant)
            rows = [
                *_compare(stack, tenant, "extractive@1", items=args.items, live=args.live),
                *_compare(
                    stack, tenant, "grounded@1", items=args.model_items, live=args.model_items
                ),
            ]
            window = _unmarked_ms(stack.config.logs_dir / "generation.log")
    text = "\n".join(
        [
            "# Batch jobs against live asks (one run)",
            "",
            f"Reproduce: `.venv/bin/python loadtests/batch_bench.py --items {args.items} --live "
            f"{args.live} --model-items {args.model_items} --output "
            "loadtests/results/batch_bench.md` (after `make models`). Load average before the "
            f"run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 vCPUs, shared).",
            "",
            "| prompt | measurement | items | time per item ms | ratio to live | tokens per "
            "item | cost per item USD | ratio to live |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Crash window (`unmarked_ms`, result acknowledged to ledger written), over "
            f"{window['n']} items: p50 {window['p50']:.2f} ms, p99 {window['p99']:.2f} ms, "
            f"max {window['max']:.2f} ms.",
        ]
    )
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


def _load_documents(stack: Stack, tenant: str) -> None:
    documents = [
        {**json.loads(p.read_text()), "tenant": tenant, "access_groups": []}
        for p in sorted((ROOT / "examples/documents").glob("*.json"))
    ]
    bootstrap = stack.config.kafka_bootstrap
    asyncio.run(push_documents(bootstrap, documents))
    asyncio.run(
        wait_for_indexed(bootstrap, {(tenant, d["id"], d.get("version", 0)) for d in documents})
    )


def _questions(n: int) -> list[str]:
    # The same questions live and in batch, each computed afresh (bypass_cache).
    return [QUESTIONS[i % len(QUESTIONS)] for i in range(n)]


def _compare(stack: Stack, tenant: str, prompt: str, *, items: int, live: int) -> list[str]:
    principal = common_pb2.Principal(tenant=tenant, user_id="bench")
    with grpc.insecure_channel(stack.config.address("generation")) as channel:
        assistant = assistant_pb2_grpc.AssistantStub(channel)

        def ask_all(questions: list[str]) -> tuple[list[float], int, float]:
            times, tokens, cost = [], 0, 0.0
            for question in questions:
                started = time.perf_counter()
                response = assistant.Ask(
                    assistant_pb2.AskRequest(
                        principal=principal,
                        question=question,
                        prompt_version=prompt,
                        bypass_cache=True,
                    ),
                    timeout=300,
                )
                times.append((time.perf_counter() - started) * 1000)
                tokens += response.usage.prompt_tokens + response.usage.completion_tokens
                cost += response.usage.cost_usd
            return times, tokens, cost

        idle_times, idle_tokens, idle_cost = ask_all(_questions(live))
        batch_s, done = _run_job(stack, tenant, prompt, _questions(items))

        async def during() -> tuple[list[float], int, float, float, BatchJobCompleted]:
            job = asyncio.create_task(
                asyncio.to_thread(_run_job, stack, tenant, prompt, _questions(items))
            )
            await asyncio.sleep(1.0)  # the job is queued and running
            times, tokens, cost = await asyncio.to_thread(ask_all, _questions(live))
            job_s, job_done = await job
            return times, tokens, cost, job_s, job_done

        busy_times, _, _, busy_job_s, busy_done = asyncio.run(during())

    live_ms = sum(idle_times) / len(idle_times)
    live_cost = idle_cost / len(idle_times)
    live_tokens = idle_tokens / len(idle_times)
    batch_ms = batch_s * 1000 / items
    batch_cost = done.cost_usd / items
    batch_tokens = (done.prompt_tokens + done.completion_tokens) / items
    busy_ms = sum(busy_times) / len(busy_times)

    def ratio(value: float, base: float) -> str:
        return f"{value / base:.2f}" if base else "—"

    return [
        f"| {prompt} | live `Ask`, idle service, sequential (mean) | {live} | {live_ms:.1f} | "
        f"1.00 | {live_tokens:.0f} | {live_cost:.8f} | {ratio(live_cost, live_cost)} |",
        f"| {prompt} | live `Ask`, idle, p50 | {live} | {statistics.median(idle_times):.1f} | "
        f"{ratio(statistics.median(idle_times), live_ms)} | | | |",
        f"| {prompt} | batch job, idle service (wall / items; {done.failed} failed, "
        f"{done.cached} cached) | {items} | {batch_ms:.1f} | "
        f"{ratio(batch_ms, live_ms)} | {batch_tokens:.0f} | {batch_cost:.8f} | "
        f"{ratio(batch_cost, live_cost)} |",
        f"| {prompt} | live `Ask` while a job runs (mean) | {live} | {busy_ms:.1f} | "
        f"{ratio(busy_ms, live_ms)} | | | |",
        f"| {prompt} | live `Ask` while a job runs, p50 | {live} | "
        f"{statistics.median(busy_times):.1f} | {ratio(statistics.median(busy_times), live_ms)} "
        "| | | |",
        f"| {prompt} | batch job beside those live asks (wall / items; {busy_done.failed} "
        f"failed) | {items} | "
        f"{busy_job_s * 1000 / items:.1f} | {ratio(busy_job_s * 1000 / items, live_ms)} | "
        f"{(busy_done.prompt_tokens + busy_done.completion_tokens) / items:.0f} | "
        f"{busy_done.cost_usd / items:.8f} | {ratio(busy_done.cost_usd / items, live_cost)} |",
    ]


def _run_job(
    stack: Stack, tenant: str, prompt: str, questions: list[str]
) -> tuple[float, BatchJobCompleted]:
    """Submit a job and wait for its completed event: (seconds, the event)."""
    job_id = f"bench-{uuid.uuid4().hex[:12]}"
    job = {
        "job_id": job_id,
        "tenant": tenant,
        "prompt_version": prompt,
        "bypass_cache": True,
        "questions": [{"question": q} for q in questions],
    }
    bootstrap = stack.config.kafka_bootstrap
    started = time.perf_counter()
    asyncio.run(
        push_raw(
            bootstrap, [(job_id.encode(), json.dumps(job).encode())], topic=topics.ANSWERS_JOBS
        )
    )
    records = asyncio.run(
        read_topic(
            bootstrap,
            topics.ANSWERS_JOB_COMPLETED,
            until=lambda rs: any(r.key == job_id.encode() for r in rs),
            timeout_s=1800,
        )
    )
    elapsed = time.perf_counter() - started
    event = next(r for r in records if r.key == job_id.encode())
    return elapsed, BatchJobCompleted.model_validate_json(event.value)


def _unmarked_ms(log: Path) -> dict[str, float]:
    values = sorted(
        json.loads(line)["unmarked_ms"]
        for line in log.read_text(errors="replace").splitlines()
        if '"batch_item_answered"' in line
    )
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p99": values[min(len(values) - 1, int(len(values) * 0.99))],
        "max": values[-1],
    }


if __name__ == "__main__":
    main()
