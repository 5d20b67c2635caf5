"""Pure retrieval logic: lexical encoding, fusion and query validation."""

from __future__ import annotations

from retrieval_service.core.bm25 import Bm25Encoder, SparseVector
from retrieval_service.core.filters import (
    Condition,
    FacetCounts,
    FacetRequest,
    TypedFilter,
    typed_metadata,
)
from retrieval_service.core.fusion import (
    distribution_based_score_fusion,
    reciprocal_rank_fusion,
    side_weights,
)
from retrieval_service.core.query import Fusion, SearchQuery

__all__ = (
    "Bm25Encoder",
    "Condition",
    "FacetCounts",
    "FacetRequest",
    "Fusion",
    "SearchQuery",
    "SparseVector",
    "TypedFilter",
    "distribution_based_score_fusion",
    "reciprocal_rank_fusion",
    "side_weights",
    "typed_metadata",
)
