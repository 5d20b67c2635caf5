"""Turns a document body into blocks of text, each under its heading path."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from contracts import MediaType
from ingestion_service.core.parsing.blocks import Block

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_HTML_BLOCKS = (
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "li",
    "pre",
    "blockquote",
    "tr",
    "dt",
    "dd",
)
_HEADING_SEPARATOR = " > "
_MAX_HEADING_WORDS = 10
_LIST_ITEM = re.compile(r"^([-*+•]|\d+[)]|\[[ xX]?\])\s")
#: C0 and C1 control characters other than tab and line breaks: never text, often a trap
#: (a NUL ends strings in C libraries). Replaced by a space, so offsets stay put.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")




def parse(text: str, media_type: MediaType) -> list[Block]:
    """Split a body into blocks; markup is removed, headings become heading paths."""
    text = _CONTROL.sub(" ", text)
    if media_type is MediaType.HTML:
        return _parse_html(text)
    if media_type is MediaType.MARKDOWN:
        return _parse_markdown(text)
    return _parse_plain(text)


def _parse_plain(text: str) -> list[Block]:
    """Paragraphs; a paragraph's first line is its heading when it reads like one.

    A heading needs text under it: the last paragraph is content, whatever it looks like
    (a one-line document is a document, not a title).
    """
    blocks: list[Block] = []
    heading = ""
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    for number, paragraph in enumerate(paragraphs, start=1):
        lines = [line.strip() for line in paragraph.strip().splitlines() if line.strip()]
        if not lines:
            continue
        alone = len(lines) == 1
        if not (alone and number == len(paragraphs)) and _looks_like_heading(lines[0], alone=alone):
            heading = lines[0].rstrip(":")
            lines = lines[1:]
        if lines:
            blocks.append(Block(heading, " ".join(" ".join(lines).split())))
    return blocks


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


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _parse_markdown(text: str) -> list[Block]:
    blocks: list[Block] = []
    headings: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        blocks.extend(
            Block(_HEADING_SEPARATOR.join(headings), p) for p in _paragraphs("\n".join(pending))
        )
        pending.clear()

    for line in text.splitlines():
        match = _MD_HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            headings[level - 1 :] = [_strip_inline_markdown(match.group(2))]
            continue
        # A list item is its own paragraph, so chunks never glue two items mid-sentence.
        if re.match(r"^\s*([-*+]|\d+[.)])\s+", line):
            pending.append("")
        pending.append(_strip_inline_markdown(re.sub(r"^\s*([-*+]|\d+[.)])\s+", "", line)))
    flush()
    if not blocks:
        # Headings and nothing under them: the headings are the text.
        return [Block("", h) for h in headings if h]
    return blocks


def _strip_inline_markdown(line: str) -> str:
    line = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", line)  # images -> alt text
    line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)  # links -> their text
    line = re.sub(r"(\*\*|__|\*|_|`)(.+?)\1", r"\2", line)  # emphasis, code
    return line.replace("|", " ").strip()


def _parse_html(text: str) -> list[Block]:
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    blocks: list[Block] = []
    headings: list[str] = []
    for element in soup.find_all(_HTML_BLOCKS):
        # Nested blocks (a <p> inside an <li>) are read once, at the innermost level.
        if element.find(_HTML_BLOCKS):
            continue
        content = " ".join(element.get_text(" ").split())
        if not content:
            continue
        if element.name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            level = int(element.name[1])
            headings[level - 1 :] = [content]
            continue
        blocks.append(Block(_HEADING_SEPARATOR.join(h for h in headings if h), content))
    if not blocks:
        # Markup without block elements: fall back to its visible text.
        return [Block("", p) for p in _paragraphs(soup.get_text("\n"))]
    return blocks
