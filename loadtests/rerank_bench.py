"""Search latency with the second stage off and on, at 10k and 100k chunks.

Not a test: run it by hand and paste the table into BENCHMARKS.md.

    .venv/bin/python loadtests/rerank_bench.py [--sizes 10000 100000] [--model text_maxsim]

The retrieval service's own servicer (`RetrievalServicer.Retrieve`, the second stage's
plumbing included) over its embedded index (`EdgeChunkIndex`, Qdrant Edge) and the reranker
adapter (`TritonReranker`) against a tritonserver of its own that serves the model from
.cache/triton/model_repository (`make models`). Per size, in a fresh process: N chunks of
real text (the python-faq candidate passages of evaluation/second_stage.py, with their titles
and headings, cycled; synthetic dense vectors, as in index_bench.py: the dense scan costs the
same), one tenant; then every python-faq query (its real MiniLM vector) asked with the
server's default (DBSF, dense weight 0.6), top_k 10, once with the second stage off and once
on (the first 50 fused candidates re-scored), alternating, so both see the same load.
Latency: the Retrieve call in process (no gRPC hop, no query embedding).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from contracts import Chunk, DocumentEmbedded, EmbeddedChunk, Operation
from contracts.events import utc_now
from contracts.rpc import common_pb2, retrieval_pb2
from platform_stack.config import free_ports
from platform_stack.processes import spawn
from platform_stack.readiness import http_ok, wait_until
from platform_triton.server import tritonserver_command
from retrieval_service.adapters import EdgeChunkIndex
from retrieval_service.adapters.reranker import TritonReranker
from retrieval_service.core import Bm25Encoder, Fusion
from retrieval_service.core.rerank import RerankPlan
from retrieval_service.rpc import FusionDefaults, RetrievalServicer

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES_FILE = ROOT / ".cache" / "second-stage" / "candidates.jsonl"
REPOSITORY = ROOT / ".cache" / "triton" / "model_repository"
DIM = 384
CHUNKS_PER_DOC = 10
TENANT = "bench"


def main() -> None:
    """Start Triton with the model, run each size in its own process, print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--model", default="text_maxsim")
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--queries", type=int, default=0, help="only the first N (0: all 87)")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # size@triton_url, run in a child
    args = parser.parse_args()
    if args.case:
        size, url = args.case.split("@")
        print(json.dumps(asyncio.run(_run_case(int(size), url, args))))
        return
    with tempfile.TemporaryDirectory(prefix="rerank-bench-") as work:
        repository = Path(work) / "models"
        repository.mkdir()
        (repository / args.model).symlink_to(REPOSITORY / args.model)
        http, grpc_port, metrics = free_ports(3)
        argv, env = tritonserver_command(
            model_repository=repository,
            http_port=http,
            grpc_port=grpc_port,
            metrics_port=metrics,
            cache_dir=ROOT / ".cache" / "triton",
        )
        triton = spawn(
            "triton-bench", argv, env=env, log=Path(work) / "triton.log", tie_to_parent=True
        )
        try:
            wait_until(
                lambda: http_ok(f"http://127.0.0.1:{http}/v2/health/ready"),
                what="triton",
                timeout_s=180,
                process=triton,
            )
            results = {}
            for size in args.sizes:
                argv = [sys.executable, __file__, "--case", f"{size}@127.0.0.1:{grpc_port}"]
                argv += ["--model", args.model, "--candidates", str(args.candidates)]
                argv += ["--queries", str(args.queries)]
                out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
                results[size] = json.loads(out.strip().splitlines()[-1])
                print(f"{size}: {results[size]}", file=sys.stderr)
        finally:
            triton.stop()
    table = _table(results, args)
    print(table)
    if args.output:
        args.output.write_text(table)


def _passages() -> tuple[list[dict], list[str]]:
    rows = [json.loads(line) for line in CANDIDATES_FILE.open(encoding="utf-8")]
    seen: dict[str, dict] = {}
    for row in rows:
        for p in row["passages"]:
            seen.setdefault(p["chunk_id"], p)
    return list(seen.values()), [row["query"] for row in rows]


def _event(d: int, passages: list[dict], vectors: np.ndarray) -> DocumentEmbedded:
    chunks = []
    for i in range(CHUNKS_PER_DOC):
        row = d * CHUNKS_PER_DOC + i
        p = passages[row % len(passages)]
        chunk = Chunk(index=i, text=p["text"], start=0, end=len(p["text"]), heading=p["heading"])
        chunks.append(EmbeddedChunk.from_chunk(chunk, vectors[row]))
    first = passages[(d * CHUNKS_PER_DOC) % len(passages)]
    return DocumentEmbedded(
        tenant=TENANT,
        document_id=f"doc-{d}",
        operation=Operation.UPSERT,
        version=1,
        submitted_at=utc_now(),
        title=first["title"],
        chunks=chunks,
    )


class _Vectors:
    """Query vectors computed once, by the platform's own MiniLM engine (sentence vectors)."""

    def __init__(self, queries: list[str]) -> None:
        sys.path.insert(0, str(ROOT / "evaluation"))
        from second_stage import _MiniLM

        model = _MiniLM()
        self._vectors = {q: model.sentence(q).tolist() for q in queries}

    async def embed_query(self, text: str) -> list[float]:
        """The precomputed vector of a benchmark query."""
        return self._vectors[text]


async def _run_case(size: int, url: str, args: argparse.Namespace) -> dict[str, object]:
    model, candidates = args.model, args.candidates
    passages, queries = _passages()
    queries = queries[: args.queries or None]
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((size, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    result: dict[str, object] = {"n": size, "queries": len(queries)}
    with tempfile.TemporaryDirectory(prefix="rerank-bench-index-") as work:
        index = EdgeChunkIndex(Path(work) / "index", dimensions=DIM, lexical=Bm25Encoder())
        await index.ensure_ready()
        started = time.perf_counter()
        for d in range(size // CHUNKS_PER_DOC):
            await index.apply(_event(d, passages, vectors))
        result["load_s"] = time.perf_counter() - started
        reranker = TritonReranker(url=url, model=model)
        servicer = RetrievalServicer(
            index=index,
            embedder=_Vectors(queries),  # type: ignore[arg-type] - the QueryEmbedder protocol
            default_top_k=10,
            fusion_defaults=FusionDefaults(fusion=Fusion.DBSF, dense_weight=0.6),
            reranker=reranker,
            # A generous budget: the bench measures the model, it must never fall back.
            rerank=RerankPlan(model=model, default=False, candidates=candidates, timeout_s=60),
        )
        modes = {"off": retrieval_pb2.RERANK_MODE_OFF, "on": retrieval_pb2.RERANK_MODE_ON}
        latencies: dict[str, list[float]] = {name: [] for name in modes}
        # The first 5 queries once untimed (caches, the model's first runs), then every one.
        for round_, asked in enumerate((queries[:5], queries)):
            for text in asked:
                for name, mode in modes.items():
                    request = retrieval_pb2.RetrieveRequest(
                        principal=common_pb2.Principal(tenant=TENANT),
                        query=text,
                        top_k=10,
                        rerank=mode,
                    )
                    started = time.perf_counter()
                    response = await servicer.Retrieve(request, None)  # type: ignore[arg-type]
                    elapsed = (time.perf_counter() - started) * 1000
                    if name == "on":
                        assert response.rerank == retrieval_pb2.RERANK_OUTCOME_APPLIED
                    if round_:
                        latencies[name].append(elapsed)
        for name, values in latencies.items():
            result[f"{name}_p50_ms"] = float(np.percentile(values, 50))
            result[f"{name}_p95_ms"] = float(np.percentile(values, 95))
        await reranker.close()
        await index.close()
    return result


def _table(results: dict[int, dict], args: argparse.Namespace) -> str:
    sizes = sorted(results)
    head = "| metric | " + " | ".join(f"{s // 1000}k chunks" for s in sizes) + " |"
    lines = [head, "|---" * (len(sizes) + 1) + "|"]
    for label, key in (
        ("search p50 ms, second stage off (the default)", "off_p50_ms"),
        ("search p95 ms, second stage off", "off_p95_ms"),
        (
            f"search p50 ms, second stage on ({args.model}, {args.candidates} candidates)",
            "on_p50_ms",
        ),
        ("search p95 ms, second stage on", "on_p95_ms"),
    ):
        lines.append(f"| {label} | " + " | ".join(f"{results[s][key]:.1f}" for s in sizes) + " |")
    lines.append(
        "| on / off, p50 | "
        + " | ".join(f"{results[s]['on_p50_ms'] / results[s]['off_p50_ms']:.1f}x" for s in sizes)
        + " |"
    )
    lines.append(
        "| on / off, p95 | "
        + " | ".join(f"{results[s]['on_p95_ms'] / results[s]['off_p95_ms']:.1f}x" for s in sizes)
        + " |"
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
