"""Clients of the embedding service's dependencies."""

from __future__ import annotations

from embedding_service.adapters.encoder import Encoder, TritonEncoder

__all__ = ("Encoder", "TritonEncoder")
