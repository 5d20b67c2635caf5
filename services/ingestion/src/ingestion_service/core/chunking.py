"""Groups parsed blocks into chunks measured in the embedding model's own tokens.

A chunk never crosses a heading or a page: it belongs to one section, so its heading path
and page are true of all of it, and an edit in one section leaves every other section's
chunks (and their vectors) as they were. Within a section, blocks (paragraphs, list items,
rows) are packed up to `target_tokens`; a block larger than that is cut at sentence ends,
and only a sentence larger than the whole window is cut between words. Consecutive chunks
share up to `overlap_tokens` of whole sentences, so a fact cut at a boundary is whole in
one of them. The title and heading path are embedded in front of every chunk
(`contracts.passages`): they are counted, so the model never truncates a chunk.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from contracts import Chunk
from contracts.passages import passage_context

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ingestion_service.core.parsing import Block

#: [CLS] and [SEP] (or the model's equivalents) take two places of the window.
_SPECIAL_TOKENS = 2
#: Between blocks of one chunk; between sentences of one block, a space.
_BLOCK_SEPARATOR = "\n"


class TokenCounter(Protocol):
    """The embedding model's tokenizer, as far as chunking needs it."""

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text, without special tokens."""
        ...

    def word_cuts(self, text: str, max_tokens: int) -> list[int]:
        """Offsets in `text` that cut it into pieces of at most `max_tokens`, between words."""
        ...


@dataclass(frozen=True)
class ChunkingPolicy:
    """Chunk sizes in the embedding model's tokens.

    all-MiniLM-L6-v2 reads 256 tokens (its sentence-transformers max_seq_length); the
    title and heading path come out of the same window.
    """

    target_tokens: int = 200
    overlap_tokens: int = 32
    window_tokens: int = 256

    def __post_init__(self) -> None:
        if not 0 <= self.overlap_tokens < self.target_tokens:
            raise ValueError("overlap_tokens must be below target_tokens")
        if self.target_tokens + _SPECIAL_TOKENS > self.window_tokens:
            raise ValueError(f"target_tokens must leave {_SPECIAL_TOKENS} tokens of the window")


@dataclass(frozen=True)
class Chunker:
    """A policy with the model's tokenizer and a sentence splitter: blocks in, chunks out."""

    policy: ChunkingPolicy
    tokens: TokenCounter
    sentences: Callable[[str], list[tuple[int, int]]]

    def __call__(self, blocks: Sequence[Block], *, title: str = "") -> list[Chunk]:
        """Chunks of `blocks` of a document titled `title`."""
        return chunk_blocks(blocks, self.policy, self.tokens, self.sentences, title=title)


@dataclass(frozen=True)
class _Unit:
    """A sentence or a whole block: the smallest piece a chunk is built of."""

    block: Block
    start: int  # in block.text
    end: int
    tokens: int

    @property
    def text(self) -> str:
        return self.block.text[self.start : self.end]


def chunk_blocks(
    blocks: Sequence[Block],
    policy: ChunkingPolicy,
    tokens: TokenCounter,
    sentences: Callable[[str], list[tuple[int, int]]],
    *,
    title: str = "",
) -> list[Chunk]:
    """Chunks of every section of `blocks`, in order, indexed from 0.

    `sentences(text)` gives the (start, end) spans of a text's sentences.
    """
    chunks: list[Chunk] = []
    for (heading, page), section in itertools.groupby(blocks, key=lambda b: (b.heading, b.page)):
        context = passage_context(title, heading)
        context_tokens = tokens.count([context])[0] if context else 0
        # What the window leaves for the text; the target never asks for more.
        room = policy.window_tokens - _SPECIAL_TOKENS - context_tokens
        room = max(room, min(policy.target_tokens, policy.window_tokens) // 4)
        target = min(policy.target_tokens, room)
        overlap = min(policy.overlap_tokens, target // 2)
        units = _units(list(section), target, room, tokens, sentences)
        for group in _pack(units, target, overlap, sentences, tokens):
            chunks.append(_chunk(len(chunks), group, heading, page))
    return chunks


def _units(
    blocks: list[Block],
    target: int,
    room: int,
    tokens: TokenCounter,
    sentences: Callable[[str], list[tuple[int, int]]],
) -> list[_Unit]:
    """Blocks that fit the target whole; the others as sentences, cut between words if need be."""
    units: list[_Unit] = []
    for block, count in zip(blocks, tokens.count([b.text for b in blocks]), strict=True):
        if count <= target:
            units.append(_Unit(block, 0, len(block.text), count))
            continue
        spans = _trimmed(block.text, sentences(block.text))
        counts = tokens.count([block.text[s:e] for s, e in spans])
        for (start, end), sentence_tokens in zip(spans, counts, strict=True):
            if sentence_tokens <= room:
                units.append(_Unit(block, start, end, sentence_tokens))
                continue
            cuts = [start + c for c in tokens.word_cuts(block.text[start:end], room)]
            pieces = _trimmed(block.text, list(itertools.pairwise([start, *cuts, end])))
            for (s, e), n in zip(
                pieces, tokens.count([block.text[s:e] for s, e in pieces]), strict=True
            ):
                units.append(_Unit(block, s, e, n))
    return units


def _pack(
    units: list[_Unit],
    target: int,
    overlap: int,
    sentences: Callable[[str], list[tuple[int, int]]],
    tokens: TokenCounter,
) -> list[list[_Unit]]:
    """Consecutive units up to `target` tokens a group; each group after the first begins
    with the whole sentences that ended the one before, up to `overlap` tokens."""
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    size = 0
    fresh = 0  # units of `current` that no earlier group holds
    for unit in units:
        if current and fresh and size + unit.tokens > target:
            groups.append(current)
            current = _tail(current, overlap, sentences, tokens)
            size = sum(u.tokens for u in current)
            fresh = 0
            # An overlap that leaves no room for the next unit is dropped.
            if size + unit.tokens > target:
                current, size = [], 0
        current.append(unit)
        size += unit.tokens
        fresh += 1
    if current and fresh:
        groups.append(current)
    return groups


def _tail(
    group: list[_Unit],
    overlap: int,
    sentences: Callable[[str], list[tuple[int, int]]],
    tokens: TokenCounter,
) -> list[_Unit]:
    """The last whole sentences of a group, at most `overlap` tokens."""
    if overlap <= 0:
        return []
    tail: list[_Unit] = []
    left = overlap
    for unit in reversed(group):
        if unit.tokens <= left:
            tail.insert(0, unit)
            left -= unit.tokens
            continue
        # A whole block too big to repeat: its last sentences may still fit.
        spans = _trimmed(unit.text, sentences(unit.text))
        counts = tokens.count([unit.text[s:e] for s, e in spans])
        for (start, end), count in zip(reversed(spans), reversed(counts), strict=True):
            if count > left:
                break
            tail.insert(0, _Unit(unit.block, unit.start + start, unit.start + end, count))
            left -= count
        break
    return tail


def _chunk(index: int, units: list[_Unit], heading: str, page: int | None) -> Chunk:
    parts: list[str] = []
    for previous, unit in zip([None, *units], units, strict=False):
        if previous is not None:
            parts.append(" " if previous.block is unit.block else _BLOCK_SEPARATOR)
        parts.append(unit.text)
    first, last = units[0], units[-1]
    return Chunk(
        index=index,
        text="".join(parts),
        start=first.block.source_offset(first.start),
        end=last.block.source_offset(last.end),
        heading=heading,
        page=page,
    )


def _trimmed(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans without their surrounding whitespace; empty ones dropped."""
    trimmed = []
    for start, end in spans:
        piece = text[start:end]
        stripped = piece.strip()
        if not stripped:
            continue
        lead = len(piece) - len(piece.lstrip())
        trimmed.append((start + lead, start + lead + len(stripped)))
    return trimmed
