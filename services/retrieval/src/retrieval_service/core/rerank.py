"""The second stage's pure parts: whether it runs, what the model reads, the new order."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contracts.passages import passage_context

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ("RerankPlan", "RerankUnconfigured", "rerank_order", "reranker_passage")


class RerankUnconfigured(ValueError):
    """The request asks for the second stage and the server has no reranker model."""


@dataclass(frozen=True)
class RerankPlan:
    """The server's second stage: its model (empty: none), default, candidates, time limit."""

    model: str = ""
    default: bool = False
    candidates: int = 50
    #: The most seconds one reranker call may take before the search answers in fused order.
    timeout_s: float = 2.0

    def wanted(self, asked: bool | None) -> bool:
        """Whether this search runs the second stage; `asked` None means the server's default.

        Raises RerankUnconfigured when it is asked for (or on by default) without a model.
        """
        wanted = self.default if asked is None else asked
        if wanted and not self.model:
            raise RerankUnconfigured(
                "the second stage was asked for, but this server has no reranker model "
                "(RETRIEVAL_RERANK_MODEL is empty)"
            )
        return wanted

    def fetch(self, top_k: int) -> int:
        """How many fused candidates to fetch for a search that keeps `top_k`.

        At least `candidates` are re-scored; a larger top_k fetches more, and those past
        `candidates` follow the re-scored ones in fused order (the cost stays bounded).
        """
        return max(top_k, self.candidates)


def reranker_passage(title: str, heading: str, text: str) -> str:
    """What the reranker reads of a chunk: 'Title > Heading' then the text, as was embedded."""
    context = passage_context(title, heading)
    return f"{context}\n{text}" if context else text


def rerank_order(scores: Sequence[float]) -> list[int]:
    """Indices by descending score; ties (and NaN, last) keep the fused order."""
    return sorted(
        range(len(scores)),
        key=lambda i: (math.isnan(scores[i]), -scores[i] if not math.isnan(scores[i]) else 0, i),
    )
