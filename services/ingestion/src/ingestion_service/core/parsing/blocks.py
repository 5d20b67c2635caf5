"""Blocks: a parser's output. Whitespace-normalized text that knows where it came from.

Every parser turns a document into blocks (paragraphs, list items, table rows, records),
each under its heading path. A block's `text` has its whitespace collapsed, but every
character still maps back to an offset in the document's source text, so a chunk made of
blocks can say exactly which span of the document it covers (`Chunk.start`/`end`) and a
client can highlight it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

HEADING_SEPARATOR = " > "
_TOKENS = re.compile(r"\S+|\s+")


@dataclass(frozen=True)
class Block:
    """A paragraph-like unit of text under its heading path, mapped onto its source."""

    heading: str
    text: str
    page: int | None = None
    #: Sorted (index in `text`, offset in the source) pairs: from each pair on, text and
    #: source advance together until the next pair.
    anchors: tuple[tuple[int, int], ...] = field(default=(), repr=False, compare=False)

    def source_offset(self, index: int) -> int:
        """Offset in the source of `text[index]` (of the end, for `index == len(text)`)."""
        if not self.anchors:
            return index
        if index >= len(self.text) and self.text:
            return self.source_offset(len(self.text) - 1) + 1
        position = bisect.bisect_right(self.anchors, (index, float("inf"))) - 1
        text_index, source = self.anchors[max(position, 0)]
        return source + (index - text_index)

    @property
    def start(self) -> int:
        """Source offset of the block's first character."""
        return self.source_offset(0)

    @property
    def end(self) -> int:
        """Source offset after the block's last character."""
        return self.source_offset(len(self.text))


def block_from_runs(
    heading: str, runs: Iterable[tuple[str, int]], *, page: int | None = None
) -> Block | None:
    """A block from runs of source text, each with the source offset it starts at.

    Runs are joined as they are (inline markup splits a word into runs: "<b>US</b>D"),
    whitespace is collapsed to one space and trimmed. None when nothing but whitespace.
    """
    out: list[str] = []
    length = 0
    anchors: list[tuple[int, int]] = []
    pending_space = False
    for run, run_start in runs:
        for match in _TOKENS.finditer(run):
            token = match.group()
            if token[0].isspace():
                pending_space = length > 0
                continue
            if pending_space:
                out.append(" ")
                length += 1
                pending_space = False
            source = run_start + match.start()
            # A new anchor only where text and source stop advancing together.
            if not anchors or source - length != anchors[-1][1] - anchors[-1][0]:
                anchors.append((length, source))
            out.append(token)
            length += len(token)
    if not length:
        return None
    return Block(heading=heading, text="".join(out), page=page, anchors=tuple(anchors))


def text_block(
    heading: str, source: str, start: int, end: int, *, page: int | None = None
) -> Block | None:
    """A block of `source[start:end]`, whitespace collapsed."""
    return block_from_runs(heading, [(source[start:end], start)], page=page)


def heading_path(headings: Iterable[str]) -> str:
    """'Policy > Limits' from the headings above a block, outermost first."""
    return HEADING_SEPARATOR.join(h for h in headings if h)


def set_heading(headings: list[str], level: int, text: str) -> None:
    """A heading of `level` (1-based) ends those at its level and below; a skipped level is
    an empty step that `heading_path` leaves out (an h3 right under an h1)."""
    del headings[level - 1 :]
    headings.extend([""] * (level - 1 - len(headings)))
    headings.append(text)
