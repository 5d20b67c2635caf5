"""What the durable broker costs: ingest throughput with Tansu on disk (S3) vs in memory.

Not a test: run it by hand and paste the table into BENCHMARKS.md.

    .venv/bin/python loadtests/broker_storage_bench.py [--copies 20] [--rounds 2] [--output F]

Each round starts a fresh embedded stack per storage, in alternating order (memory, s3, then
s3, memory, ...), pushes the same corpus and measures:
- acknowledgements: documents/s a producer gets acknowledged (acks=all, one at a time);
- pipeline: documents/s from the first send to the last documents.indexed.v1.
The ratio durable / memory is taken per round, so both sides of it share the machine's mood.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from platform_stack import Stack, StackConfig
from platform_stack.documents import push_documents, wait_for_indexed

ROOT = Path(__file__).resolve().parents[1]
STORAGES = ("memory", "s3")


def main() -> None:
    """Measure both storages `--rounds` times and print (and optionally write) a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=20, help="copies of the 12-document corpus")
    parser.add_argument("--rounds", type=int, default=2, help="stacks started per storage")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {s: [] for s in STORAGES}
    for round_ in range(args.rounds):
        order = STORAGES if round_ % 2 == 0 else STORAGES[::-1]
        for storage in order:
            acks, pipeline = _measure(storage, args.copies)
            results[storage].append((acks, pipeline))
            print(f"round {round_ + 1} {storage}: {acks:.1f} acks/s, {pipeline:.1f} docs/s")
    table = _table(results, documents=12 * args.copies)
    print(table)
    if args.output:
        command = (
            "`.venv/bin/python loadtests/broker_storage_bench.py "
            f"--copies {args.copies} --rounds {args.rounds}`"
        )
        args.output.write_text(
            "# Broker storage benchmark (one run)\n\n"
            f"Reproduce: {command} (from the repository root, after `make models`). Machine: "
            "2 vCPUs, no GPU; Triton, the broker, its S3 server, the six services and the "
            "client share them.\n" + table
        )


def _measure(storage: str, copies: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as state:
        config = StackConfig.from_env().with_free_ports(
            Path(state), redis_url="redis://127.0.0.1:6379/14", kafka_storage=storage
        )
        with Stack(config) as stack:
            tenant = f"bench{storage}{int(time.time())}"
            docs = _corpus(tenant, copies)
            bootstrap = stack.config.kafka_bootstrap
            started = time.perf_counter()
            asyncio.run(push_documents(bootstrap, docs))
            acked_s = time.perf_counter() - started
            expected = {(tenant, d["id"], d.get("version", 0)) for d in docs}
            asyncio.run(wait_for_indexed(bootstrap, expected, timeout_s=1800))
            pipeline_s = time.perf_counter() - started
    return len(docs) / acked_s, len(docs) / pipeline_s


def _corpus(tenant: str, copies: int) -> list[dict]:
    originals = [
        json.loads(p.read_text()) for p in sorted((ROOT / "examples/documents").glob("*.json"))
    ]
    return [
        {**doc, "tenant": tenant, "id": f"{doc['id']}-{n}", "access_groups": []}
        for n in range(copies)
        for doc in originals
    ]


def _table(results: dict[str, list[tuple[float, float]]], *, documents: int) -> str:
    rounds = len(results["s3"])
    ack_ratios = [s[0] / m[0] for s, m in zip(results["s3"], results["memory"], strict=True)]
    pipe_ratios = [s[1] / m[1] for s, m in zip(results["s3"], results["memory"], strict=True)]
    lines = [
        f"\n### Ingest of {documents} documents, {rounds} fresh stacks per storage\n",
        "| broker storage | acknowledged docs/s (median) | pipeline docs/s (median) |",
        "|---|---:|---:|",
    ]
    for storage, label in (("memory", "memory (baseline)"), ("s3", "disk, via the S3 server")):
        acks = statistics.median(r[0] for r in results[storage])
        pipeline = statistics.median(r[1] for r in results[storage])
        lines.append(f"| {label} | {acks:.1f} | {pipeline:.1f} |")
    lines.append(
        f"| **ratio disk / memory** (median of per-round ratios) | "
        f"{statistics.median(ack_ratios):.2f} | {statistics.median(pipe_ratios):.2f} |"
    )
    lines.append(
        "\nPer-round ratios, acknowledged: "
        + ", ".join(f"{r:.2f}" for r in ack_ratios)
        + "; pipeline: "
        + ", ".join(f"{r:.2f}" for r in pipe_ratios)
        + ".\n"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
