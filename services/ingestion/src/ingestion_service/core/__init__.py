"""Pure ingestion logic: parsing and chunking, no I/O."""

from __future__ import annotations

from ingestion_service.core.chunking import Chunker, ChunkingPolicy, TokenCounter, chunk_blocks
from ingestion_service.core.documents import NoContent, to_chunked_event
from ingestion_service.core.parsing import Block, parse

__all__ = (
    "Block",
    "Chunker",
    "ChunkingPolicy",
    "NoContent",
    "TokenCounter",
    "chunk_blocks",
    "parse",
    "to_chunked_event",
)
