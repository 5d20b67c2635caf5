"""The text embedded for a chunk."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts import Chunk


def passage_text(title: str, chunk: Chunk) -> str:
    """Title and heading path before the chunk text, so a chunk that never names its
    subject ("The limit is USD 200") is still found by a query that does."""
    context = " > ".join(part for part in (title, chunk.heading) if part)
    return f"{context}\n{chunk.text}" if context else chunk.text
