"""Retrieval quality gate: the evaluation set must not regress below these floors.

The floors sit a little under the figures in EVALUATION.md (run-to-run noise of the
int8 engine moves Recall@5 by up to 0.025), so only a real regression trips them.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import grpc
import pytest

from contracts.rpc import retrieval_pb2_grpc

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FLOORS = {
    "RRF (dense + BM25)": {"recall_at_5": 0.95, "mrr_at_10": 0.85, "answer_at_5": 0.85},
    "dense only": {"recall_at_5": 0.92, "mrr_at_10": 0.85, "answer_at_5": 0.80},
    "BM25 only": {"recall_at_5": 0.90, "mrr_at_10": 0.75, "answer_at_5": 0.70},
}


def _evaluation_module():
    # evaluation/ is a script folder, not an installed package: load it by path.
    spec = importlib.util.spec_from_file_location(
        "retrieval_eval", ROOT / "evaluation" / "retrieval_eval.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_retrieval_quality_does_not_regress(own_stack):
    evaluation = _evaluation_module()
    evaluation.ingest(own_stack, evaluation.load_corpus())
    questions = evaluation.load_qrels(evaluation.DEFAULT_QRELS)
    with grpc.insecure_channel(own_stack.config.address("retrieval")) as channel:
        results = evaluation.evaluate(retrieval_pb2_grpc.RetrievalStub(channel), questions)
    summaries = {
        method: evaluation.summarize(method, outcomes) for method, outcomes in results.items()
    }
    below = [
        f"{method} {metric} = {getattr(summaries[method], metric):.3f} < {floor}"
        for method, floors in FLOORS.items()
        for metric, floor in floors.items()
        if getattr(summaries[method], metric) < floor
    ]
    assert not below, "retrieval quality regressed: " + "; ".join(below)
    # Fusion must not be worse than the better of its two sides at finding the document.
    rrf = summaries["RRF (dense + BM25)"].recall_at_5
    assert (
        rrf >= max(summaries["dense only"].recall_at_5, summaries["BM25 only"].recall_at_5) - 0.025
    )
