"""Clients of the retrieval service's dependencies."""

from __future__ import annotations

from retrieval_service.adapters.edge_index import EdgeChunkIndex, IndexUnavailableError
from retrieval_service.adapters.embedder import GrpcQueryEmbedder, QueryEmbedder
from retrieval_service.adapters.index import ChunkIndex, PassageHit
from retrieval_service.adapters.opensearch_lexical import OpenSearchLexicalIndex
from retrieval_service.adapters.qdrant_index import QdrantChunkIndex
from retrieval_service.adapters.reranker import (
    FunctionReranker,
    Reranker,
    RerankerError,
    TritonReranker,
)
from retrieval_service.adapters.split_index import SplitChunkIndex

__all__ = (
    "ChunkIndex",
    "EdgeChunkIndex",
    "FunctionReranker",
    "GrpcQueryEmbedder",
    "IndexUnavailableError",
    "OpenSearchLexicalIndex",
    "PassageHit",
    "QdrantChunkIndex",
    "QueryEmbedder",
    "Reranker",
    "RerankerError",
    "SplitChunkIndex",
    "TritonReranker",
)
