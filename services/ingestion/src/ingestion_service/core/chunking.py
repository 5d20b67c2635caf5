"""Groups parsed blocks into chunks that fit the embedding model's context."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contracts import Chunk

if TYPE_CHECKING:
    from ingestion_service.core.parsing import Block

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class ChunkingPolicy:
    """Chunk size in words.

    all-MiniLM-L6-v2 reads 256 word pieces; English prose averages about 1.3 pieces
    a word, so 180 words stay inside the window with the heading prepended.
    """

    max_words: int = 180
    overlap_words: int = 30


def chunk_blocks(blocks: list[Block], policy: ChunkingPolicy) -> list[Chunk]:
    """Pack consecutive blocks under one heading into chunks of at most `max_words`."""
    chunks: list[Chunk] = []
    offset = 0
    pieces: list[tuple[str, int]] = []  # (text, start offset) of the chunk being built
    heading = ""

    def emit() -> None:
        if not pieces:
            return
        text = " ".join(p for p, _ in pieces)
        start = pieces[0][1]
        chunks.append(
            Chunk(index=len(chunks), text=text, start=start, end=start + len(text), heading=heading)
        )

    for block in blocks:
        for sentence_group in _split_long(block.text, policy.max_words):
            words = len(sentence_group.split())
            current = sum(len(p.split()) for p, _ in pieces)
            if pieces and (block.heading != heading or current + words > policy.max_words):
                emit()
                pieces = _overlap(pieces, policy.overlap_words) if block.heading == heading else []
            heading = block.heading
            pieces.append((sentence_group, offset))
            offset += len(sentence_group) + 1
    emit()
    return chunks


def _split_long(text: str, max_words: int) -> list[str]:
    """Split a block longer than a chunk at sentence ends, and a sentence at `max_words`."""
    if len(text.split()) <= max_words:
        return [text]
    groups: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        words = sentence.split()
        while len(words) > max_words:
            groups.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if current and len(current) + len(words) > max_words:
            groups.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        groups.append(" ".join(current))
    return groups


def _overlap(pieces: list[tuple[str, int]], overlap_words: int) -> list[tuple[str, int]]:
    """The tail of the previous chunk, so a fact split at a boundary is in both."""
    last_text, last_start = pieces[-1]
    words = last_text.split()
    if overlap_words <= 0 or len(words) <= overlap_words:
        return [pieces[-1]] if overlap_words > 0 and len(words) <= overlap_words else []
    tail = " ".join(words[-overlap_words:])
    return [(tail, last_start + len(last_text) - len(tail))]
