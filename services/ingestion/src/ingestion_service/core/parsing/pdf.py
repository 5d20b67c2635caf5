"""PDF through pypdf: text page by page, headings from the outline or from font size.

Offsets index into the extracted text of the block's page (`Block.page`, 1-based). A
heading is what the document itself marks as one: a line that reads as an entry of the
PDF's outline (bookmarks) on that page; without an outline, a short line set clearly
larger than the body text (the size most characters are set in), levels by size. A
paragraph ends at a blank line, a heading, or a line that ends a sentence short of the
page's full line width.

An encrypted PDF that opens with the empty user password is read: every viewer opens it
without asking, so its text is as public as the file (owner-password permission flags
are advisory and not enforced). One that needs a password is an `EncryptedDocument`.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from contracts.events import MAX_DOCUMENT_CHARS
from ingestion_service.core.parsing.blocks import Block, heading_path, set_heading, text_block
from ingestion_service.core.parsing.decoding import clean
from ingestion_service.core.parsing.errors import (
    CorruptDocument,
    DocumentRejected,
    DocumentTooLarge,
    EncryptedDocument,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

#: A heading is set at least this much larger than the body text.
_HEADING_SCALE = 1.15
_MAX_HEADING_WORDS = 15
#: A line this much shorter than the page's longest that ends a sentence ends a paragraph.
_SHORT_LINE = 0.85
_SENTENCE_END = (".", "!", "?", ":")
_LINE = re.compile(r"[^\n]*")


@dataclass(frozen=True)
class _Page:
    number: int
    text: str
    #: Font size of each character of `text`, 0 where unknown.
    sizes: list[float]


def parse(data: bytes) -> list[Block]:
    """Blocks of a PDF, each with its 1-based page; offsets index into the page's text."""
    if b"%PDF-" not in data[:1024]:
        raise CorruptDocument("not a PDF: no %PDF- header in its first 1,024 bytes")
    try:
        reader = PdfReader(io.BytesIO(data))
        _open(reader)
        pages = list(_pages(reader))
        outline = _outline(reader)
    except DocumentRejected:
        raise
    except Exception as exc:  # pypdf raises many kinds on a malformed file: all mean corrupt.
        raise CorruptDocument(f"unreadable PDF: {type(exc).__name__}: {exc}") from exc
    return _blocks(pages, outline)


def _open(reader: PdfReader) -> None:
    if not reader.is_encrypted:
        return
    try:
        opened = reader.decrypt("")
    except DependencyError as exc:
        raise EncryptedDocument(f"encrypted PDF that cannot be decrypted here: {exc}") from exc
    if opened is PasswordType.NOT_DECRYPTED:
        raise EncryptedDocument("encrypted PDF: it opens only with a password")


def _pages(reader: PdfReader) -> Iterator[_Page]:
    total = 0
    try:
        page_objects = list(reader.pages)
    except FileNotDecryptedError as exc:
        raise EncryptedDocument(f"encrypted PDF: {exc}") from exc
    for number, page in enumerate(page_objects, start=1):
        pieces: list[tuple[str, float]] = []

        def visit(text: str, cm: Any, tm: Any, font: Any, size: Any, into: list = pieces) -> None:
            if text:
                scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]) or 1.0
                into.append((text, float(size or 0) * scale))

        text = clean(page.extract_text(visitor_text=visit))
        total += len(text)
        if total > MAX_DOCUMENT_CHARS:
            raise DocumentTooLarge(
                f"over {MAX_DOCUMENT_CHARS:,} characters of text by page {number}"
            )
        yield _Page(number, text, _sizes(text, pieces))


def _sizes(text: str, pieces: list[tuple[str, float]]) -> list[float]:
    """Each character's font size: the visitor's pieces found in order in the page's text."""
    sizes = [0.0] * len(text)
    cursor = 0
    for piece, size in pieces:
        piece = clean(piece).strip()
        at = text.find(piece, cursor) if piece else -1
        if at < 0:
            continue
        sizes[at : at + len(piece)] = [size] * len(piece)
        cursor = at + len(piece)
    return sizes


def _outline(reader: PdfReader) -> dict[int, list[tuple[int, str]]]:
    """Outline entries by 1-based page: (level, title), in order."""
    entries: dict[int, list[tuple[int, str]]] = {}

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            page = reader.get_destination_page_number(item)
            title = " ".join(str(item.title or "").split())
            if page is not None and page >= 0 and title:
                entries.setdefault(page + 1, []).append((level, title))

    walk(reader.outline, 1)
    return entries


def _blocks(pages: list[_Page], outline: dict[int, list[tuple[int, str]]]) -> list[Block]:
    body_size = _body_size(pages)
    heading_sizes = _heading_sizes(pages, body_size) if not outline else []
    headings: list[str] = []
    blocks: list[Block] = []
    for page in pages:
        marked = {title.casefold(): level for level, title in outline.get(page.number, [])}
        found: set[str] = set()
        lines = [(m.start(), m.end()) for m in _LINE.finditer(page.text)]
        longest = max((len(page.text[s:e].strip()) for s, e in lines), default=0)
        start: int | None = None

        def close(end: int, page: _Page = page) -> None:
            nonlocal start
            if start is not None:
                block = text_block(heading_path(headings), page.text, start, end, page=page.number)
                if block is not None:
                    blocks.append(block)
            start = None

        # Outline entries of this page that no line matches head the page from its top.
        for level, title in outline.get(page.number, []):
            if not any(
                " ".join(page.text[s:e].split()).casefold() == title.casefold() for s, e in lines
            ):
                set_heading(headings, level, title)
        for line_start, line_end in lines:
            line = " ".join(page.text[line_start:line_end].split())
            if not line:
                close(line_start)
                continue
            level = marked.get(line.casefold()) if line.casefold() not in found else None
            if level is None and heading_sizes:
                level = _size_level(page, line_start, line_end, heading_sizes)
            if level:
                close(line_start)
                found.add(line.casefold())
                set_heading(headings, level, line)
                continue
            if start is None:
                start = line_start
            if line.endswith(_SENTENCE_END) and len(line) < _SHORT_LINE * longest:
                close(line_end)
        close(len(page.text))
    return blocks


def _body_size(pages: list[_Page]) -> float:
    """The font size most characters are set in."""
    counts: dict[float, int] = {}
    for page in pages:
        for char, size in zip(page.text, page.sizes, strict=True):
            if size and not char.isspace():
                counts[round(size, 1)] = counts.get(round(size, 1), 0) + 1
    return max(counts, key=lambda s: counts[s], default=0.0)


def _heading_sizes(pages: list[_Page], body_size: float) -> list[float]:
    """Sizes set clearly larger than the body, largest first: level 1, 2 and so on."""
    if not body_size:
        return []
    sizes = {
        round(size, 1)
        for page in pages
        for size in page.sizes
        if size >= body_size * _HEADING_SCALE
    }
    return sorted(sizes, reverse=True)


def _size_level(page: _Page, start: int, end: int, heading_sizes: list[float]) -> int | None:
    """A short line wholly set in a heading size: its level."""
    if len(page.text[start:end].split()) > _MAX_HEADING_WORDS:
        return None
    sizes = {round(page.sizes[i], 1) for i in range(start, end) if not page.text[i].isspace()}
    if len(sizes) == 1 and (size := sizes.pop()) in heading_sizes:
        return heading_sizes.index(size) + 1
    return None
