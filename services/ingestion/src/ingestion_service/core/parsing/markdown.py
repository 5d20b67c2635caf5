"""Markdown through markdown-it-py (CommonMark, with tables and strikethrough).

Headings become heading paths; paragraphs (in lists and quotes too), table rows and code
blocks become blocks; inline markup is dropped and link and image text kept. markdown-it
gives each block token its source lines (`Token.map`); within them the text of each inline
token is found in order, so a block maps onto the submitted text character by character,
except a character reference or backslash escape, whose character maps to where it starts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt

from ingestion_service.core.parsing.blocks import (
    Block,
    block_from_runs,
    heading_path,
    set_heading,
    text_block,
)

if TYPE_CHECKING:
    from markdown_it.token import Token

# markdown-it breaks lines at \r\n, \r and \n alike.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FENCE = re.compile(r"\s*(```|~~~)")
_ROW_TAGS = ("th_open", "td_open")


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    # Unjoined, an escape or entity stays its own token that says what it was in the source.
    md.disable("text_join")
    return md


_MD = _markdown()


class _Source:
    """The text with its line starts, and a cursor that only moves forward."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]
        self.cursor = 0

    def line(self, number: int) -> int:
        """Offset of a 0-based line's first character (the end of the text past the last)."""
        if number >= len(self.line_starts):
            return len(self.text)
        return self.line_starts[number]

    def find(self, piece: str, limit: int) -> int:
        """Where `piece` is next, from the cursor; the cursor moves past it."""
        at = self.text.find(piece, self.cursor, limit) if piece else -1
        if at < 0:  # Not verbatim in the source (never expected): anchored at the cursor.
            return self.cursor
        self.cursor = at + len(piece)
        return at


def parse(text: str) -> list[Block]:
    """Blocks of a Markdown text; offsets index into `text`."""
    source = _Source(text)
    tokens = _MD.parse(text)
    blocks: list[Block] = []
    heading_blocks: list[Block] = []
    headings: list[str] = []
    row: list[tuple[str, int]] | None = None
    heading_level = 0
    for token in tokens:
        if token.map is not None:
            source.cursor = max(source.cursor, source.line(token.map[0]))
        if token.type == "heading_open":
            heading_level = int(token.tag[1])
        elif token.type == "tr_open":
            row = []
        elif token.type in _ROW_TAGS and row is not None:
            row.append((" ", source.cursor))
        elif token.type == "tr_close" and row is not None:
            _append(blocks, block_from_runs(heading_path(headings), row))
            row = None
        elif token.type == "inline":
            limit = source.line(token.map[1]) if token.map else len(text)
            runs = _inline_runs(token, source, limit)
            if row is not None:
                row.extend(runs)
            elif heading_level:
                block = block_from_runs("", runs)
                set_heading(headings, heading_level, block.text if block else "")
                _append(heading_blocks, block)
                heading_level = 0
            else:
                _append(blocks, block_from_runs(heading_path(headings), runs))
        elif token.type in ("fence", "code_block") and token.map:
            start, end = _code_lines(token, source)
            _append(blocks, text_block(heading_path(headings), text, start, end))
            source.cursor = max(source.cursor, end)
    # Headings and nothing under them: the headings are the text.
    return blocks or heading_blocks


def _inline_runs(token: Token, source: _Source, limit: int) -> list[tuple[str, int]]:
    """(text, source offset) of every piece of text in an inline token, markup dropped."""
    runs: list[tuple[str, int]] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline") and child.content:
            runs.append((child.content, source.find(child.content, limit)))
        elif child.type == "text_special":
            # An escape or entity: its character stands where its markup starts.
            runs.append((child.content, source.find(child.markup or child.content, limit)))
        elif child.type in ("softbreak", "hardbreak"):
            runs.append((" ", source.cursor))
        elif child.type == "image":
            runs.extend(_inline_runs(child, source, limit))
    return runs


def _code_lines(token: Token, source: _Source) -> tuple[int, int]:
    """Source span of a code block's code: a fence's own lines are left out."""
    first, last = token.map or (0, 0)
    if token.type == "fence":
        first += 1
        closing = source.text[source.line(last - 1) : source.line(last)]
        if last - 1 >= first and _FENCE.match(closing):
            last -= 1
    return source.line(first), source.line(last)


def _append(blocks: list[Block], block: Block | None) -> None:
    if block is not None:
        blocks.append(block)
