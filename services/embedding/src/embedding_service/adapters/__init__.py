"""Clients of the embedding service's dependencies."""

from __future__ import annotations

from embedding_service.adapters.encoder import Encoder, TritonEncoder
from embedding_service.adapters.stored_vectors import (
    NoStoredVectors,
    RetrievalStoredVectors,
    StoredVectors,
)

__all__ = (
    "Encoder",
    "NoStoredVectors",
    "RetrievalStoredVectors",
    "StoredVectors",
    "TritonEncoder",
)
