"""Ranking metrics with graded judgements: pooling, nDCG, recall, MRR, percentiles."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load():
    # evaluation/ is a script folder, not an installed package: load it by path.
    spec = importlib.util.spec_from_file_location("metrics", ROOT / "evaluation" / "metrics.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


metrics = _load()


def test_passages_pool_to_their_document_by_max_score() -> None:
    passages = [("a", 0.5), ("b", 0.9), ("a", 0.95), ("c", 0.9), ("b", 0.1)]
    assert metrics.pool_by_document(passages) == ["a", "b", "c"]  # b before c: seen first
    assert metrics.pool_by_document([]) == []


def test_ndcg_uses_the_grade_as_gain_and_the_ideal_order_of_all_judgements() -> None:
    grades = {"a": 2, "b": 1, "z": 1, "n": 0}
    ideal = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    got = 1 / math.log2(2) + 2 / math.log2(4)  # b first, a third
    assert metrics.ndcg_at(["b", "x", "a"], grades, 10) == pytest.approx(got / ideal)
    assert metrics.ndcg_at(["a", "b", "z"], grades, 10) == pytest.approx(1.0)
    # Only the first k count, and the ideal is cut at k too.
    assert metrics.ndcg_at(["x", "a"], grades, 1) == 0.0
    assert metrics.ndcg_at(["a"], grades, 1) == pytest.approx(1.0)
    assert metrics.ndcg_at(["a"], {"n": 0}, 10) == 0.0


def test_recall_and_mrr_count_every_grade_from_one() -> None:
    grades = {"a": 2, "b": 1, "n": 0}
    ranking = ["n", "x", "b", "y", "a"]
    assert metrics.recall_at(ranking, grades, 3) == 0.5
    assert metrics.recall_at(ranking, grades, 5) == 1.0
    assert metrics.mrr_at(ranking, grades, 10) == pytest.approx(1 / 3)
    assert metrics.mrr_at(ranking, grades, 2) == 0.0  # a grade-0 judgement is not relevant
    assert metrics.recall_at(ranking, {}, 10) == 0.0


def test_percentiles_interpolate_like_numpy() -> None:
    values = [12.0, 3.0, 7.5, 40.0, 9.0, 11.0, 2.0]
    for q in (0, 50, 95, 100):
        assert metrics.percentile(values, q) == pytest.approx(np.percentile(values, q))
    assert metrics.percentile([], 50) == 0.0
    assert metrics.percentile([4.0], 95) == 4.0


def test_a_summary_is_the_mean_of_each_metric_and_latency_percentiles() -> None:
    scores = [
        metrics.score_query(["a", "b"], {"a": 1}, 10.0),
        metrics.score_query(["b", "a"], {"a": 1}, 30.0),
    ]
    summary = metrics.summarize("rrf", scores)
    assert summary.queries == 2
    assert summary.mrr_at_10 == pytest.approx(0.75)
    assert summary.recall_at_10 == summary.recall_at_100 == 1.0
    assert summary.ndcg_at_10 == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert (summary.p50_ms, summary.p95_ms) == pytest.approx((20.0, 29.0))


def test_the_paired_bootstrap_brackets_the_mean_difference_and_counts_wins() -> None:
    baseline = [0.2, 0.5, 0.0, 1.0, 0.3, 0.4]
    better = [b + 0.1 for b in baseline]
    same = metrics.paired_difference(baseline, baseline)
    assert (same.mean, same.low, same.high, same.wins, same.losses) == (0.0, 0.0, 0.0, 0, 0)
    shifted = metrics.paired_difference(better, baseline, resamples=500)
    assert shifted.mean == pytest.approx(0.1) and shifted.wins == 6
    assert shifted.low == pytest.approx(0.1) and shifted.high == pytest.approx(0.1)
    mixed = metrics.paired_difference([0.9, 0.1, 0.6, 0.2], [0.1, 0.9, 0.5, 0.2], resamples=2000)
    assert mixed.low < mixed.mean < mixed.high and (mixed.wins, mixed.losses) == (2, 1)
    assert metrics.paired_difference([0.9, 0.1], [0.1, 0.9], seed=3) == metrics.paired_difference(
        [0.9, 0.1], [0.1, 0.9], seed=3
    )
    with pytest.raises(ValueError, match="2 candidate scores against 1"):
        metrics.paired_difference([0.1, 0.2], [0.1])
