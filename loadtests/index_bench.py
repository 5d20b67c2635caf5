"""The embedded index: Qdrant Edge (the default) against qdrant-client's local mode (the old one).

Not a test: run it by hand and paste the table into BENCHMARKS.md.

    .venv/bin/python loadtests/index_bench.py [--edge-sizes 10000 100000] [--local-sizes 10000]

Both engines are driven through the service's own adapters (`EdgeChunkIndex`,
`QdrantChunkIndex` on `AsyncQdrantClient(path=...)`), so writes include the version check,
the BM25 encoding and the stale-chunk delete, and searches the filter, the executor hop and
the payload decoding. Each engine and size runs in a fresh process, one after the other.

Data: synthetic clustered 384-d unit vectors (n/100 centres plus as much noise), 10 chunks per
document, 5 tenants, 30 % of documents public and the rest in 1-3 of 10 groups, ~60 words per
chunk from a Zipf vocabulary. Queries: a chunk the principal can read, its vector moved by
noise of norm 0.5, four of its words outside the 100 most frequent; the principal is in 2
groups, so ~11 % of the points pass the filter. Recall@10 is against numpy: the exact
filtered dense top 10, and for the hybrid RRF of the exact filtered dense top 40 and the exact
BM25 top 40 (the engine's IDF formula; equal scores go to the earlier point, as in the engine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from qdrant_client import AsyncQdrantClient

from contracts import Chunk, DocumentEmbedded, EmbeddedChunk, Operation
from contracts.events import utc_now
from retrieval_service.adapters import EdgeChunkIndex, QdrantChunkIndex
from retrieval_service.adapters._layout import PUBLIC_GROUP, lexical_text
from retrieval_service.core import Bm25Encoder, Fusion, SearchQuery

DIM = 384
CHUNKS_PER_DOC = 10
TENANTS = [f"tenant-{i}" for i in range(5)]
GROUPS = [f"group-{i}" for i in range(10)]
VOCAB = 20_000
TOP_K = 10
CANDIDATES = 4 * TOP_K  # what the adapters prefetch per side
COMMON_WORDS = 100


def main() -> None:
    """Run every engine and size in its own process, then print and write the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--edge-sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--local-sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--queries", type=int, default=200, help="per search kind (edge)")
    parser.add_argument("--local-queries", type=int, default=40, help="per search kind")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # engine:size, run in a child
    args = parser.parse_args()
    if args.case:
        engine, size = args.case.split(":")
        queries = args.queries if engine == "edge" else args.local_queries
        print(json.dumps(asyncio.run(_run_case(engine, int(size), queries))))
        return
    cases = [("edge", n) for n in args.edge_sizes] + [("local", n) for n in args.local_sizes]
    results = {}
    for engine, size in cases:
        argv = [sys.executable, __file__, "--case", f"{engine}:{size}"]
        argv += ["--queries", str(args.queries), "--local-queries", str(args.local_queries)]
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        results[(engine, size)] = json.loads(out.strip().splitlines()[-1])
        print(f"{engine} {size}: {results[(engine, size)]}", file=sys.stderr)
    table = _table(results, args)
    print(table)
    if args.output:
        args.output.write_text(table)


# ----------------------------------------------------------------------------- data


class Corpus:
    """n chunks in documents of 10: vectors, words, tenants, groups."""

    def __init__(self, n: int, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.n = n
        centres = rng.standard_normal((max(50, n // 100), DIM), dtype=np.float32)
        dense = centres[rng.integers(0, len(centres), n)]
        dense += rng.standard_normal((n, DIM), dtype=np.float32)
        self.dense = dense / np.linalg.norm(dense, axis=1, keepdims=True)
        vocab = _words(rng, VOCAB)
        zipf = 1.0 / np.arange(1, VOCAB + 1) ** 1.07
        lengths = rng.integers(40, 81, n)
        draws = rng.choice(VOCAB, size=int(lengths.sum()), p=zipf / zipf.sum())
        cuts = np.cumsum(lengths)[:-1]
        self.words = [[vocab[w] for w in row] for row in np.split(draws, cuts)]
        # The most frequent words behave like stopwords: thousands of chunks tie on them.
        self.common = set(vocab[:COMMON_WORDS])
        docs = math.ceil(n / CHUNKS_PER_DOC)
        self.doc_tenant = rng.integers(0, len(TENANTS), docs)
        self.doc_groups = [
            []
            if rng.random() < 0.3
            else rng.choice(GROUPS, int(rng.integers(1, 4)), replace=False).tolist()
            for _ in range(docs)
        ]
        self.docs = docs
        self._visible: dict[tuple[str, ...], np.ndarray] = {}

    def event(self, d: int) -> DocumentEmbedded:
        """Document d as the embedding service publishes it."""
        rows = range(d * CHUNKS_PER_DOC, min(self.n, (d + 1) * CHUNKS_PER_DOC))
        chunks = []
        for i, row in enumerate(rows):
            text = " ".join(self.words[row])
            chunk = Chunk(index=i, text=text, start=0, end=len(text))
            chunks.append(EmbeddedChunk.from_chunk(chunk, self.dense[row]))
        return DocumentEmbedded(
            tenant=TENANTS[self.doc_tenant[d]],
            document_id=f"doc-{d}",
            operation=Operation.UPSERT,
            version=1,
            submitted_at=utc_now(),
            title=f"Doc{d}",  # one token, no word shared by every chunk
            access_groups=self.doc_groups[d],
            metadata={"lang": ("en", "de", "fr")[d % 3]},
            chunks=chunks,
        )

    def visible(self, tenant: str, groups: list[str]) -> np.ndarray:
        """Mask of the chunks a principal may read."""
        key = (tenant, *groups)
        if key not in self._visible:
            self._visible[key] = self._mask(tenant, groups)
        return self._visible[key]

    def _mask(self, tenant: str, groups: list[str]) -> np.ndarray:
        allowed = {PUBLIC_GROUP, *groups}
        per_doc = np.array(
            [
                TENANTS[t] == tenant and bool(allowed & set(g or [PUBLIC_GROUP]))
                for t, g in zip(self.doc_tenant, self.doc_groups, strict=True)
            ]
        )
        return np.repeat(per_doc, CHUNKS_PER_DOC)[: self.n]


def _words(rng: np.random.Generator, count: int) -> list[str]:
    letters = np.array(list("bcdfghjklmnprstvz")), np.array(list("aeiou"))
    words: set[str] = set()
    while len(words) < count:
        size = int(rng.integers(2, 5))
        words.add("".join(rng.choice(letters[k % 2]) for k in range(2 * size)))
    return sorted(words)


class Queries:
    """Queries near readable chunks, with numpy ground truth for dense and hybrid."""

    def __init__(self, corpus: Corpus, count: int, seed: int = 11) -> None:
        rng = np.random.default_rng(seed)
        bm25 = Bm25Encoder()
        self.items: list[tuple[SearchQuery, list[float]]] = []
        self.dense_truth: list[Truth] = []
        self.hybrid_truth: list[Truth] = []
        self.sparse_truth: list[Truth] = []
        postings, idf = _bm25_postings(corpus, bm25)
        for k in range(count):
            tenant = TENANTS[k % len(TENANTS)]
            groups = [GROUPS[k % 10], GROUPS[(3 * k + 1) % 10]]
            mask = corpus.visible(tenant, groups)
            source = int(rng.choice(np.flatnonzero(mask)))
            noise = rng.standard_normal(DIM).astype(np.float32)
            vector = corpus.dense[source] + 0.5 * noise / np.linalg.norm(noise)
            vector /= np.linalg.norm(vector)
            content = sorted(set(corpus.words[source]) - corpus.common)
            text = " ".join(rng.choice(content, min(4, len(content)), replace=False))
            query = SearchQuery(tenant=tenant, groups=groups, text=text, top_k=TOP_K)
            self.items.append((query, vector.tolist()))
            dense_scores = np.where(mask, corpus.dense @ vector, -np.inf)
            dense_top = _top(dense_scores, CANDIDATES)
            sparse_scores = np.zeros(corpus.n)
            for term in bm25.encode_query(text).indices:
                if term in postings:
                    rows, weights = postings[term]
                    sparse_scores[rows] += idf[term] * weights
            sparse_scores = np.where(mask & (sparse_scores > 0), sparse_scores, -np.inf)
            sparse_top = _top(sparse_scores, CANDIDATES)
            fused: dict[int, float] = {}
            for ranking in (dense_top, sparse_top):
                for rank, row in enumerate(ranking, start=1):
                    fused[row] = fused.get(row, 0.0) + 1 / (60 + rank)
            self.dense_truth.append(Truth({r: float(dense_scores[r]) for r in dense_top}))
            self.hybrid_truth.append(Truth(fused))
            self.sparse_truth.append(Truth({r: float(sparse_scores[r]) for r in sparse_top}))


class Truth:
    """The exact scores of a query's best points; any point scoring at least the 10th counts.

    RRF gives equal scores to, say, rank 3 on one side only and rank 3 on the other side
    only, so the exact top 10 is a set only up to ties at its end.
    """

    def __init__(self, scores: dict[int, float]) -> None:
        self.scores = scores
        ranked = sorted(scores.values(), reverse=True)
        self.size = min(TOP_K, len(ranked))
        self.threshold = ranked[self.size - 1] - 1e-9 if ranked else math.inf

    def recall(self, found: list[int]) -> float:
        """Share of the exact top 10 the search returned, ties counted as equal."""
        good = sum(self.scores.get(r, -math.inf) >= self.threshold for r in found[: self.size])
        return good / self.size if self.size else 1.0


def _bm25_postings(corpus: Corpus, bm25: Bm25Encoder) -> tuple[dict, dict]:
    """Per term: (rows, document weights), and Qdrant's IDF: ln(1 + (N - n + 0.5) / (n + 0.5))."""
    lists: dict[int, tuple[list[int], list[float]]] = {}
    for d in range(corpus.docs):
        event = corpus.event(d)
        for chunk in event.chunks:
            row = d * CHUNKS_PER_DOC + chunk.index
            sparse = bm25.encode_document(lexical_text(event, chunk))
            for term, weight in zip(sparse.indices, sparse.values, strict=True):
                rows, weights = lists.setdefault(term, ([], []))
                rows.append(row)
                weights.append(weight)
    postings = {t: (np.array(r), np.array(w)) for t, (r, w) in lists.items()}
    n = corpus.n
    idf = {t: math.log(1 + (n - len(r) + 0.5) / (len(r) + 0.5)) for t, (r, _) in postings.items()}
    return postings, idf


def _top(scores: np.ndarray, k: int) -> list[int]:
    # Stable: equal scores go to the earlier point, as the engine's scan breaks ties.
    order = np.argsort(-scores, kind="stable")[:k]
    return [int(r) for r in order if np.isfinite(scores[r])]


# ----------------------------------------------------------------------------- one case


async def _run_case(engine: str, n: int, query_count: int) -> dict[str, object]:
    corpus = Corpus(n)
    queries = Queries(corpus, query_count)
    row_of = {}
    with tempfile.TemporaryDirectory(prefix="index-bench-") as work:
        path = Path(work) / "index"
        result: dict[str, object] = {"engine": engine, "n": n, "queries": query_count}
        index = _open(engine, path)
        await index.ensure_ready()
        spent = 0.0
        for d in range(corpus.docs):
            event = corpus.event(d)
            for chunk in event.chunks:
                row_of[f"{event.document_id}#{chunk.index}"] = d * CHUNKS_PER_DOC + chunk.index
            started = time.perf_counter()
            await index.apply(event)
            spent += time.perf_counter() - started
        result["write_points_per_s"] = n / spent
        await index.close()
        started = time.perf_counter()
        index = _open(engine, path)
        await index.ensure_ready()
        result["reopen_s"] = time.perf_counter() - started
        result["disk_mb"] = sum(f.stat().st_blocks * 512 for f in path.rglob("*")) / 2**20
        result.update(await _measure(index, queries, row_of, ""))
        if engine == "edge":
            # The optional compaction (RETRIEVAL_EDGE_OPTIMIZE_ON_START): what it costs, buys.
            started = time.perf_counter()
            await index.optimize()
            result["optimize_s"] = time.perf_counter() - started
            result.update(await _measure(index, queries, row_of, "compacted_"))
        await index.close()
        shutil.rmtree(path, ignore_errors=True)
    return result


def _open(engine: str, path: Path) -> EdgeChunkIndex | QdrantChunkIndex:
    if engine == "edge":
        return EdgeChunkIndex(path, dimensions=DIM, lexical=Bm25Encoder())
    return QdrantChunkIndex(
        AsyncQdrantClient(path=str(path)),
        collection="chunks",
        dimensions=DIM,
        lexical=Bm25Encoder(),
        payload_indexes=False,  # local mode ignores them
    )


async def _measure(index, queries: Queries, row_of: dict, prefix: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, fusion, truth in (
        ("hybrid", Fusion.RRF, queries.hybrid_truth),
        ("dense", Fusion.DENSE_ONLY, queries.dense_truth),
        ("sparse", Fusion.SPARSE_ONLY, queries.sparse_truth),
    ):
        items = [(q.model_copy(update={"fusion": fusion}), v) for q, v in queries.items]
        for query, vector in items[:5]:  # warm-up
            await index.search(query, vector)
        latencies, recalls = [], []
        for (query, vector), expected in zip(items, truth, strict=True):
            started = time.perf_counter()
            hits = await index.search(query, vector)
            latencies.append((time.perf_counter() - started) * 1e3)
            recalls.append(
                expected.recall([row_of[f"{h.document_id}#{h.chunk_index}"] for h in hits])
            )
        out[f"{prefix}{name}_p50_ms"] = float(np.percentile(latencies, 50))
        out[f"{prefix}{name}_p95_ms"] = float(np.percentile(latencies, 95))
        out[f"{prefix}{name}_recall"] = float(np.mean(recalls))
    return out


# ----------------------------------------------------------------------------- report


def _table(results: dict, args: argparse.Namespace) -> str:
    small, large = min(args.edge_sizes), max(args.edge_sizes)
    edge_s, edge_l = results[("edge", small)], results[("edge", large)]
    local = results.get(("local", small))
    rows = [
        ("search hybrid RRF p50 ms", "hybrid_p50_ms", False),
        ("search hybrid RRF p95 ms", "hybrid_p95_ms", False),
        ("search dense p50 ms", "dense_p50_ms", False),
        ("search dense p95 ms", "dense_p95_ms", False),
        ("recall@10 hybrid vs exact", "hybrid_recall", None),
        ("recall@10 dense vs exact", "dense_recall", None),
        ("search BM25 p50 ms", "sparse_p50_ms", False),
        ("recall@10 BM25 vs exact", "sparse_recall", None),
        ("write points/s (apply, 10-chunk documents)", "write_points_per_s", True),
        ("reopen s", "reopen_s", False),
        ("disk MB (allocated)", "disk_mb", False),
        ("after optimize(): hybrid p50 ms", "compacted_hybrid_p50_ms", False),
        ("after optimize(): hybrid p95 ms", "compacted_hybrid_p95_ms", False),
        ("after optimize(): dense p50 ms", "compacted_dense_p50_ms", False),
        ("after optimize(): recall@10 hybrid", "compacted_hybrid_recall", None),
        ("optimize() s (no HNSW graph: m=0)", "optimize_s", False),
    ]
    head = (
        f"| metric | edge {small:,} | edge {large:,} | edge {large:,} / {small:,} "
        f"| local mode {small:,} | local / edge at {small:,} |\n|---|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for label, key, higher_better in rows:
        a, b = edge_s.get(key), edge_l.get(key)
        c = local.get(key) if local else None
        growth = _ratio(b, a) if higher_better is not None else ""
        if higher_better is None or c is None or a is None:
            versus = ""
        else:
            versus = _ratio(a, c) if higher_better else _ratio(c, a)
        cells = [label, _fmt(a), _fmt(b), growth, _fmt(c), versus]
        lines.append("| " + " | ".join(cells) + " |")
    queries = f"{args.queries} queries per kind on edge, {args.local_queries} on local mode"
    return (
        f"# Embedded index benchmark (one run)\n\nReproduce: `.venv/bin/python "
        f"loadtests/index_bench.py --edge-sizes {' '.join(map(str, args.edge_sizes))} "
        f"--local-sizes {' '.join(map(str, args.local_sizes))} --queries {args.queries} "
        f"--local-queries {args.local_queries}`. {queries}; top 10, tenant + group filter "
        f"(~11 % of the points visible).\n\n" + head + "\n".join(lines) + "\n"
    )


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3f}" if value < 1.5 else f"{value:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "" if a is None or b is None or b == 0 else f"{a / b:.1f}x"


if __name__ == "__main__":
    main()
