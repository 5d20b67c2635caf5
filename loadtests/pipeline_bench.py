"""End-to-end speed of the embedded stack: ingest throughput and ask latency.

Not a test: run it by hand and paste the table into BENCHMARKS.md.

    .venv/bin/python loadtests/pipeline_bench.py [--copies 20] [--asks 60]

Every figure comes with a baseline measured in the same run on the same machine, because
this machine is noisy:
- ingest: chunks/s through Kafka -> ingestion -> embedding (Triton) -> retrieval (Qdrant),
  against the same chunk texts sent straight to Triton (the engine alone);
- ask: latency of Ask (fresh and cached) and Search, against a gRPC health check on the same
  server (the transport alone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from contracts import DocumentSubmitted
from contracts.passages import passage_text
from contracts.rpc import assistant_pb2, assistant_pb2_grpc, common_pb2
from ingestion_service.adapters import ModelTokenizer, packaged_tokenizer_path, sentence_spans
from ingestion_service.core import Chunker, ChunkingPolicy, to_chunked_event
from platform_stack import Stack, StackConfig
from platform_stack.documents import push_documents, wait_for_indexed
from platform_triton import TritonEmbeddingClient

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "What is the hotel cap per night in London?",
    "Which MFA methods are approved?",
    "What is the restocking fee for non-warranty returns?",
    "How many vacation days do employees get?",
    "What is the payload of the RX-7 arm?",
    "How long is parental leave?",
    "What purchase amount needs a purchase order?",
    "What is the response time for a severity 1 support ticket?",
    "Can I work remotely from another country?",
    "What is the daily meal allowance when travelling?",
]


def main() -> None:
    """Run both benchmarks on a fresh embedded stack and print markdown tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=20, help="copies of the 12-document corpus")
    parser.add_argument("--asks", type=int, default=60, help="asks per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        base = StackConfig.from_env()
        config = base.with_free_ports(Path(state), redis_url="redis://127.0.0.1:6379/14")
        with Stack(config) as stack:
            tenant = f"bench{int(time.time())}"
            print(_ingest(stack, tenant, args.copies))
            print(_asks(stack, tenant, args.asks))


def _corpus(tenant: str, copies: int) -> list[dict]:
    originals = [
        json.loads(p.read_text()) for p in sorted((ROOT / "examples/documents").glob("*.json"))
    ]
    # Each copy gets a title of its own: the title is embedded with every chunk, so no copy
    # can reuse another's stored vectors and the engine embeds every chunk (a throughput run,
    # not a deduplication run).
    return [
        {
            **doc,
            "tenant": tenant,
            "id": f"{doc['id']}-{n}",
            "title": f"{doc['title']} (copy {n})",
            "access_groups": [],
        }
        for n in range(copies)
        for doc in originals
    ]


def _ingest(stack: Stack, tenant: str, copies: int) -> str:
    docs = _corpus(tenant, copies)
    # The service's own chunker with its default settings: the same chunks it will embed.
    chunker = Chunker(ChunkingPolicy(), ModelTokenizer(packaged_tokenizer_path()), sentence_spans)
    texts = [
        passage_text(d["title"], c)
        for d in docs
        for c in to_chunked_event(DocumentSubmitted.model_validate(d), chunker).chunks
    ]
    # Baseline: the engine alone, same texts, batches of 64 sent concurrently.
    client = TritonEmbeddingClient(url=stack.config.address("triton"), timeout_s=300)
    started = time.perf_counter()
    asyncio.run(_embed_all(client, texts))
    engine_s = time.perf_counter() - started

    bootstrap = stack.config.kafka_bootstrap
    started = time.perf_counter()
    asyncio.run(push_documents(bootstrap, docs))
    asyncio.run(
        wait_for_indexed(
            bootstrap, {(tenant, d["id"], d.get("version", 0)) for d in docs}, timeout_s=1800
        )
    )
    pipeline_s = time.perf_counter() - started
    engine_rate, pipeline_rate = len(texts) / engine_s, len(texts) / pipeline_s
    return (
        f"\n### Ingest: {len(docs)} documents, {len(texts)} chunks\n\n"
        "| path | seconds | chunks/s | ratio to engine alone |\n|---|---:|---:|---:|\n"
        f"| Triton engine alone (baseline) | {engine_s:.1f} | {engine_rate:.1f} | 1.00 |\n"
        f"| Kafka → ingestion → embedding → retrieval → indexed | {pipeline_s:.1f} | "
        f"{pipeline_rate:.1f} | {pipeline_rate / engine_rate:.2f} |\n"
    )


async def _embed_all(client: TritonEmbeddingClient, texts: list[str]) -> None:
    await client.embed(texts)
    await client.close()


def _asks(stack: Stack, tenant: str, asks: int) -> str:
    principal = common_pb2.Principal(tenant=tenant, user_id="bench")
    with grpc.insecure_channel(stack.config.address("generation")) as channel:
        assistant = assistant_pb2_grpc.AssistantStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(asks)]
        rows = {
            "gRPC health check (baseline)": _timed(
                lambda _: health.Check(health_pb2.HealthCheckRequest(), timeout=10), questions
            ),
            "Search (top 10)": _timed(
                lambda q: assistant.Search(
                    assistant_pb2.SearchRequest(principal=principal, query=q), timeout=30
                ),
                questions,
            ),
            "Ask, fresh (bypass cache)": _timed(
                lambda q: assistant.Ask(
                    assistant_pb2.AskRequest(principal=principal, question=q, bypass_cache=True),
                    timeout=30,
                ),
                questions,
            ),
        }
        # Answers that found nothing are not cached, by design; time the questions that were.
        answered = [q for q in dict.fromkeys(questions) if _ask(assistant, principal, q).cached]
        rows[f"Ask, cached ({len(answered)} of {len(set(questions))} questions answered)"] = _timed(
            lambda q: _ask(assistant, principal, q),
            [answered[i % len(answered)] for i in range(asks)],
        )
        concurrent = _throughput(
            lambda q: assistant.Ask(
                assistant_pb2.AskRequest(principal=principal, question=q, bypass_cache=True),
                timeout=60,
            ),
            questions,
            workers=8,
        )
    base = statistics.median(rows["gRPC health check (baseline)"])
    lines = [
        f"\n### Ask latency: {asks} sequential calls each\n",
        "| call | p50 ms | p95 ms | p50 ratio to baseline |",
        "|---|---:|---:|---:|",
    ]
    for name, samples in rows.items():
        p50, p95 = statistics.median(samples), _p95(samples)
        lines.append(f"| {name} | {p50:.1f} | {p95:.1f} | {p50 / base:.1f} |")
    lines.append(f"\nFresh asks with 8 concurrent callers: {concurrent:.1f} answers/s.\n")
    return "\n".join(lines)


def _ask(assistant, principal, question: str) -> assistant_pb2.AskResponse:
    return assistant.Ask(
        assistant_pb2.AskRequest(principal=principal, question=question), timeout=30
    )


def _timed(call, questions: list[str]) -> list[float]:
    call(questions[0])  # warm the path once
    samples = []
    for question in questions:
        started = time.perf_counter()
        call(question)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _throughput(call, questions: list[str], *, workers: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(call, questions))
    return len(questions) / (time.perf_counter() - started)


def _p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]


if __name__ == "__main__":
    main()
