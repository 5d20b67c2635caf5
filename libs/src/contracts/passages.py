"""What is embedded for a chunk: the contract between ingestion, which sizes chunks for the
model's window, and embedding, which sends exactly this text to the engine."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.events import Chunk

#: The title and heading path are context, not content: a very deep path keeps its end.
MAX_CONTEXT_CHARS = 300
_CONTEXT_SEPARATOR = " > "


def passage_context(title: str, heading: str) -> str:
    """'Title > Section > Subsection', at most MAX_CONTEXT_CHARS (the most specific end)."""
    context = _CONTEXT_SEPARATOR.join(part for part in (title, heading) if part)
    if len(context) > MAX_CONTEXT_CHARS:
        context = "…" + context[-(MAX_CONTEXT_CHARS - 1) :]
    return context


def passage_text(title: str, chunk: Chunk) -> str:
    """Title and heading path before the chunk text, so a chunk that never names its
    subject ("The limit is USD 200") is still found by a query that does."""
    context = passage_context(title, chunk.heading)
    return f"{context}\n{chunk.text}" if context else chunk.text


def content_hash(model: str, text: str) -> str:
    """Identity of a vector: the engine and the exact text it embedded."""
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()
