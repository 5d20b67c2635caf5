"""The platform's contracts: topic names, event payloads and their JSON Schemas."""

from __future__ import annotations

from contracts import topics
from contracts.events import (
    Chunk,
    DocumentChunked,
    DocumentEmbedded,
    DocumentIndexed,
    DocumentSubmitted,
    EmbeddedChunk,
    FeedbackReceived,
    IndexStatus,
    MediaType,
    Notification,
    Operation,
    chunk_id,
    document_key,
)

__all__ = (
    "Chunk",
    "DocumentChunked",
    "DocumentEmbedded",
    "DocumentIndexed",
    "DocumentSubmitted",
    "EmbeddedChunk",
    "FeedbackReceived",
    "IndexStatus",
    "MediaType",
    "Notification",
    "Operation",
    "chunk_id",
    "document_key",
    "topics",
)
