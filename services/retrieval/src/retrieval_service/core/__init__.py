"""Pure retrieval logic: lexical encoding and query validation."""

from __future__ import annotations

from retrieval_service.core.bm25 import Bm25Encoder, SparseVector
from retrieval_service.core.fusion import reciprocal_rank_fusion
from retrieval_service.core.query import Fusion, SearchQuery

__all__ = (
    "Bm25Encoder",
    "Fusion",
    "SearchQuery",
    "SparseVector",
    "reciprocal_rank_fusion",
)
