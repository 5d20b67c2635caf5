"""Ranking metrics over graded relevance judgements, and latency percentiles. Pure functions.

    ranking = pool_by_document([("d1", 0.9), ("d2", 0.8), ("d1", 0.7)])  # ["d1", "d2"]
    ndcg_at(ranking, {"d2": 2, "d3": 1}, 10)

Conventions are trec_eval's (as BEIR reports them through pytrec_eval): nDCG uses the grade
itself as the gain and a log2(rank + 1) discount, the ideal ranking holds every judged
document in grade order; recall@k is the share of documents judged relevant (grade >= 1)
within the first k; MRR@k is 1 / rank of the first relevant document within the first k.
A query with nothing judged relevant scores 0 everywhere (the caller should skip it).
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "PairedDifference",
    "QueryScores",
    "Summary",
    "mrr_at",
    "ndcg_at",
    "paired_difference",
    "percentile",
    "pool_by_document",
    "recall_at",
    "score_query",
    "summarize",
]


def pool_by_document(passages: Iterable[tuple[str, float]]) -> list[str]:
    """Documents of a passage list, ordered by their best passage's score (max pooling).

    Ties keep the order of first appearance, so a list already sorted by score pools to
    the order of each document's first passage.
    """
    best: dict[str, float] = {}
    for document, score in passages:
        if document not in best or score > best[document]:
            best[document] = score
    order = {document: position for position, document in enumerate(best)}
    return sorted(best, key=lambda d: (-best[d], order[d]))


def _relevant(grades: Mapping[str, int]) -> set[str]:
    return {d for d, g in grades.items() if g >= 1}


def ndcg_at(ranking: Sequence[str], grades: Mapping[str, int], k: int) -> float:
    """Normalized discounted cumulative gain at k, the grade as the gain."""
    dcg = sum(
        max(grades.get(d, 0), 0) / math.log2(rank + 1)
        for rank, d in enumerate(ranking[:k], start=1)
    )
    ideal_gains = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal_gains, start=1))
    return dcg / ideal if ideal else 0.0


def recall_at(ranking: Sequence[str], grades: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents (grade >= 1) among the first k."""
    relevant = _relevant(grades)
    return len(relevant.intersection(ranking[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranking: Sequence[str], grades: Mapping[str, int], k: int) -> float:
    """1 / rank of the first relevant document within the first k, else 0."""
    relevant = _relevant(grades)
    for rank, document in enumerate(ranking[:k], start=1):
        if document in relevant:
            return 1.0 / rank
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks (numpy's default)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class QueryScores:
    """One query's metrics under one configuration."""

    ndcg_at_10: float
    recall_at_10: float
    recall_at_100: float
    mrr_at_10: float
    latency_ms: float


def score_query(
    ranking: Sequence[str], grades: Mapping[str, int], latency_ms: float
) -> QueryScores:
    """Every metric of one query's document ranking."""
    return QueryScores(
        ndcg_at_10=ndcg_at(ranking, grades, 10),
        recall_at_10=recall_at(ranking, grades, 10),
        recall_at_100=recall_at(ranking, grades, 100),
        mrr_at_10=mrr_at(ranking, grades, 10),
        latency_ms=latency_ms,
    )


@dataclass(frozen=True)
class Summary:
    """Means over the queries, and latency percentiles, of one configuration."""

    name: str
    queries: int
    ndcg_at_10: float
    recall_at_10: float
    recall_at_100: float
    mrr_at_10: float
    p50_ms: float
    p95_ms: float


def summarize(name: str, scores: Sequence[QueryScores]) -> Summary:
    """Mean of each metric, p50 and p95 of the latency."""

    def mean(values: Iterable[float]) -> float:
        values = list(values)
        return statistics.fmean(values) if values else 0.0

    latencies = [s.latency_ms for s in scores]
    return Summary(
        name=name,
        queries=len(scores),
        ndcg_at_10=mean(s.ndcg_at_10 for s in scores),
        recall_at_10=mean(s.recall_at_10 for s in scores),
        recall_at_100=mean(s.recall_at_100 for s in scores),
        mrr_at_10=mean(s.mrr_at_10 for s in scores),
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
    )


@dataclass(frozen=True)
class PairedDifference:
    """Mean per-query difference of a metric (candidate - baseline), with a bootstrap interval."""

    mean: float
    low: float
    high: float
    wins: int
    losses: int


def paired_difference(
    candidate: Sequence[float],
    baseline: Sequence[float],
    *,
    resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedDifference:
    """Percentile bootstrap over queries of the mean difference; deterministic for a seed.

    The same queries are drawn for both sides (a paired test), so per-query difficulty,
    which dominates the spread of every metric, cancels out.
    """
    if len(candidate) != len(baseline):
        raise ValueError(f"{len(candidate)} candidate scores against {len(baseline)}")
    differences = [c - b for c, b in zip(candidate, baseline, strict=True)]
    if not differences:
        return PairedDifference(0.0, 0.0, 0.0, 0, 0)
    rng = random.Random(seed)  # noqa: S311 - resampling, not secrets
    n = len(differences)
    means = sorted(
        math.fsum(differences[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples)
    )
    tail = (1.0 - confidence) / 2 * 100
    return PairedDifference(
        mean=math.fsum(differences) / n,
        low=percentile(means, tail),
        high=percentile(means, 100 - tail),
        wins=sum(d > 0 for d in differences),
        losses=sum(d < 0 for d in differences),
    )
