"""Retrieval regression gate on real data: a fixed python-faq subset through the real pipeline.

The subset (tests/fixtures/python-faq-subset, cut by evaluation/datasets/python_faq/subset.py)
is pushed to the backfill topic under a tenant of its own, as `genai eval retrieval` pushes a
corpus; every query is asked over Assistant.Search with the server's default fusion, with BM25
alone and with dense alone; passages are pooled to documents by max score and scored with
evaluation/metrics.py. The gate fails when the default's nDCG@10 falls more than TOLERANCE
below the committed baseline (baseline.json beside the subset), or below BM25 alone.

Set GENAI_RETRIEVAL_GATE_OUT=FILE.json to keep the measurement (figures, per-query nDCG@10,
date, commit): that is how baseline.json is re-measured (EVALUATION.md, "Regression gate on
python-faq").
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from genai_cli.eval.configs import parse_configs
from genai_cli.eval.corpus import corpus_documents, push_corpus
from genai_cli.eval.search import run_queries

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SUBSET = ROOT / "tests" / "fixtures" / "python-faq-subset"
CONFIGS = "default,bm25,dense"
#: The pipeline is deterministic (static int8 embeddings, fixed chunking, exact search), so
#: repeated runs gave identical figures; the tolerance only absorbs float-level tie breaks.
TOLERANCE = 0.01


def _load(name: str):
    # evaluation/ is a script folder, not an installed package: load it by path.
    spec = importlib.util.spec_from_file_location(name, ROOT / "evaluation" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_default_fusion_holds_its_ndcg_on_the_python_faq_subset(stack, tenant):
    beir, metrics = _load("beir"), _load("metrics")
    dataset = beir.load_beir(SUBSET)
    baseline = json.loads((SUBSET / "baseline.json").read_text(encoding="utf-8"))
    queries = [(q.id, q.text) for q in dataset.judged_queries()]
    assert len(queries) == baseline["queries"]

    started = time.monotonic()
    version = time.time_ns()
    documents, refused = corpus_documents(
        {d.id: (d.title, d.text) for d in dataset.corpus.values()}, tenant=tenant, version=version
    )
    assert not refused
    outcome = push_corpus(
        documents,
        bootstrap=stack.config.kafka_bootstrap,
        tenant=tenant,
        version=version,
        idle_timeout_s=120,
    )
    assert outcome.confirmed == len(dataset.corpus), outcome.rejected
    ingest_s = time.monotonic() - started

    corpus_ids = {d.document_id: d.corpus_id for d in documents}
    ndcg: dict[str, list[float]] = {}
    for config in parse_configs(CONFIGS):
        answers = run_queries(stack.config.address("generation"), config, queries, tenant=tenant)
        ndcg[config.name] = [
            metrics.ndcg_at(
                metrics.pool_by_document(
                    (corpus_ids.get(document, document), score) for document, score in a.passages
                ),
                dataset.relevant(a.query_id),
                10,
            )
            for a in answers
        ]
    measured = {name: round(sum(values) / len(values), 4) for name, values in ndcg.items()}
    _keep(measured, ndcg, queries, chunks=outcome.chunks, ingest_s=ingest_s)

    floor = baseline["ndcg_at_10"]["default"] - TOLERANCE
    figures = ", ".join(f"{name} {value:.4f}" for name, value in measured.items())
    assert measured["default"] >= floor, (
        f"default nDCG@10 {measured['default']:.4f} fell below the baseline "
        f"{baseline['ndcg_at_10']['default']:.4f} - {TOLERANCE} ({figures}); "
        f"queries that lost most: {_losers(ndcg['default'], queries, baseline)}"
    )
    assert measured["default"] >= measured["bm25"], f"default fell below BM25 alone ({figures})"


def _losers(
    default: list[float], queries: list[tuple[str, str]], baseline: dict[str, object]
) -> str:
    """The five queries whose default nDCG@10 fell most against the baseline's."""
    before = baseline["per_query"]
    drops = sorted(
        (before[query_id]["default"] - now, query_id)
        for now, (query_id, _) in zip(default, queries, strict=True)
        if query_id in before
    )[::-1][:5]
    # Per-query baselines are rounded to 4 places: smaller differences are not losses.
    lost = [f"{query_id} -{drop:.3f}" for drop, query_id in drops if drop > 0.0005]
    return ", ".join(lost) or "none against the per-query baseline"


def _keep(
    measured: dict[str, float],
    ndcg: dict[str, list[float]],
    queries: list[tuple[str, str]],
    *,
    chunks: int,
    ingest_s: float,
) -> None:
    """Write the measurement to $GENAI_RETRIEVAL_GATE_OUT, when set."""
    out = os.environ.get("GENAI_RETRIEVAL_GATE_OUT")
    if not out:
        return
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    record = {
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "queries": len(queries),
        "chunks": chunks,
        "ingest_s": round(ingest_s, 1),
        "ndcg_at_10": measured,
        "per_query": {
            query_id: {name: round(values[i], 4) for name, values in ndcg.items()}
            for i, (query_id, _) in enumerate(queries)
        },
    }
    Path(out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
