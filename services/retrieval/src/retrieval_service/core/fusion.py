"""Reciprocal rank fusion of ranked lists, for when the two sides live in different stores."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ItemT = TypeVar("ItemT")

#: The constant of Cormack et al. (2009), also Qdrant's default: dampens the top ranks.
RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[ItemT]],
    *,
    key: Callable[[ItemT], str],
    limit: int,
    k: int = RRF_K,
) -> list[tuple[ItemT, float]]:
    """Items of all rankings ordered by sum(1 / (k + rank)), rank starting at 1."""
    scores: dict[str, float] = {}
    first_seen: dict[str, ItemT] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            item_key = key(item)
            scores[item_key] = scores.get(item_key, 0.0) + 1.0 / (k + rank)
            first_seen.setdefault(item_key, item)
    ordered = sorted(scores.items(), key=lambda kv: -kv[1])[:limit]
    return [(first_seen[item_key], score) for item_key, score in ordered]
