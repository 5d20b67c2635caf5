"""Plain text: paragraphs, and a heading only where a line reads like one."""

from __future__ import annotations

import re

from ingestion_service.core.parsing.blocks import Block, text_block

_MAX_HEADING_WORDS = 10
_LIST_ITEM = re.compile(r"^([-*+•]|\d+[)]|\[[ xX]?\])\s")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_LINE = re.compile(r"[^\n]+")


def parse(text: str) -> list[Block]:
    """Paragraphs; a paragraph's first line is its heading when it reads like one.

    A heading needs text under it: the last paragraph is content, whatever it looks like
    (a one-line document is a document, not a title). Offsets index into `text`.
    """
    paragraphs = [(start, end) for start, end in _paragraph_spans(text) if text[start:end].strip()]
    blocks: list[Block] = []
    heading = ""
    for number, (start, end) in enumerate(paragraphs, start=1):
        lines = [m for m in _LINE.finditer(text, start, end) if m.group().strip()]
        first = lines[0].group().strip()
        alone = len(lines) == 1
        body_start = start
        if not (alone and number == len(paragraphs)) and _looks_like_heading(first, alone=alone):
            heading = first.rstrip(":")
            body_start = lines[0].end()
        block = text_block(heading, text, body_start, end)
        if block is not None:
            blocks.append(block)
    return blocks


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _looks_like_heading(line: str, *, alone: bool) -> bool:
    """Short, unpunctuated, not a list item; and on its own, in capitals, or ending in ':'."""
    words = line.split()
    if not 0 < len(words) <= _MAX_HEADING_WORDS or _LIST_ITEM.match(line):
        return False
    if line.endswith(":"):
        return True
    if line.endswith((".", "?", "!", ";", ",")):
        return False
    return alone or line.isupper()
