"""Fusion of ranked lists, for when the two sides are fetched apart (another store, or a
weighting the engine does not offer): reciprocal rank and distribution-based score fusion."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ItemT = TypeVar("ItemT")

#: The constant of Cormack et al. (2009), also Qdrant's default: dampens the top ranks.
RRF_K = 60


def side_weights(dense_weight: float | None) -> tuple[float, float] | None:
    """(dense, lexical) multipliers for a dense weight in [0, 1], or None for equal weights.

    Scaled so that 0.5 gives (1, 1): a weighted fusion at 0.5 scores exactly as the
    unweighted one, which is what Qdrant's engine computes.
    """
    if dense_weight is None:
        return None
    return 2.0 * dense_weight, 2.0 * (1.0 - dense_weight)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[ItemT]],
    *,
    key: Callable[[ItemT], str],
    limit: int,
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[ItemT, float]]:
    """Items of all rankings ordered by sum(weight / (k + rank)), rank starting at 1."""
    scores: dict[str, float] = {}
    first_seen: dict[str, ItemT] = {}
    for ranking, weight in zip(rankings, _weights(weights, len(rankings)), strict=True):
        for rank, item in enumerate(ranking, start=1):
            item_key = key(item)
            scores[item_key] = scores.get(item_key, 0.0) + weight / (k + rank)
            first_seen.setdefault(item_key, item)
    ordered = sorted(scores.items(), key=lambda kv: -kv[1])[:limit]
    return [(first_seen[item_key], score) for item_key, score in ordered]


def distribution_normalized(scores: Sequence[float]) -> list[float]:
    """Scores mapped so that mean - 3 sd is 0 and mean + 3 sd is 1 (not clipped).

    Qdrant's DBSF rule: the sample standard deviation; one score, or all equal, give 0.5.
    Scores are taken as larger-is-better (cosine, BM25).
    """
    if len(scores) < 2:
        return [0.5] * len(scores)
    mean = math.fsum(scores) / len(scores)
    deviation = math.sqrt(math.fsum((s - mean) ** 2 for s in scores) / (len(scores) - 1))
    if deviation == 0.0:
        return [0.5] * len(scores)
    low, span = mean - 3.0 * deviation, 6.0 * deviation
    return [(s - low) / span for s in scores]


def distribution_based_score_fusion(
    rankings: Sequence[Sequence[ItemT]],
    *,
    key: Callable[[ItemT], str],
    score: Callable[[ItemT], float],
    limit: int,
    weights: Sequence[float] | None = None,
) -> list[tuple[ItemT, float]]:
    """Items ordered by the weighted sum of their distribution-normalized scores (DBSF).

    An item missing from a ranking adds nothing for it, as in Qdrant.
    """
    fused: dict[str, float] = {}
    first_seen: dict[str, ItemT] = {}
    for ranking, weight in zip(rankings, _weights(weights, len(rankings)), strict=True):
        normalized = distribution_normalized([score(item) for item in ranking])
        for item, value in zip(ranking, normalized, strict=True):
            item_key = key(item)
            fused[item_key] = fused.get(item_key, 0.0) + weight * value
            first_seen.setdefault(item_key, item)
    ordered = sorted(fused.items(), key=lambda kv: -kv[1])[:limit]
    return [(first_seen[item_key], value) for item_key, value in ordered]


def _weights(weights: Sequence[float] | None, count: int) -> Sequence[float]:
    if weights is None:
        return [1.0] * count
    if len(weights) != count:
        raise ValueError(f"{len(weights)} weights for {count} rankings")
    return weights
