"""Clients of the retrieval service's dependencies."""

from __future__ import annotations

from retrieval_service.adapters.embedder import GrpcQueryEmbedder, QueryEmbedder
from retrieval_service.adapters.index import ChunkIndex, PassageHit
from retrieval_service.adapters.qdrant_index import QdrantChunkIndex

__all__ = ("ChunkIndex", "GrpcQueryEmbedder", "PassageHit", "QdrantChunkIndex", "QueryEmbedder")
