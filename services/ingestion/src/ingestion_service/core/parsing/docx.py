"""DOCX through python-docx: paragraphs and table rows in document order.

Offsets index into the document's extracted text: the text of every paragraph, those in
table cells included, in order, joined by "\\n". Paragraphs styled "Title" or "Heading N"
are headings (Title at level 1, like Heading 1); every other paragraph is a block, and so
is every table row (its cells' text in order). A password-protected DOCX is not a zip but
an OLE container holding an "EncryptedPackage": an `EncryptedDocument`; any other OLE file
(a legacy .doc) is an `UnsupportedDocument`.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import docx
from docx.table import Table

from contracts.events import MAX_DOCUMENT_CHARS
from ingestion_service.core.parsing.blocks import Block, heading_path, set_heading, text_block
from ingestion_service.core.parsing.decoding import clean
from ingestion_service.core.parsing.errors import (
    CorruptDocument,
    DocumentRejected,
    DocumentTooLarge,
    EncryptedDocument,
    UnsupportedDocument,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_HEADING_STYLE = re.compile(r"^(?:heading\s*(\d)|title)$", re.IGNORECASE)


@dataclass(frozen=True)
class _Piece:
    """A paragraph (level > 0 for a heading) or a table row: its texts, in order."""

    texts: list[str]
    level: int = 0


def parse(data: bytes) -> list[Block]:
    """Blocks of a DOCX; offsets index into its paragraphs' text joined by newlines."""
    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTED_PACKAGE in data:
            raise EncryptedDocument("password-protected DOCX (an encrypted OLE package)")
        raise UnsupportedDocument("an OLE file (a legacy Word .doc?), not a DOCX")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise CorruptDocument("not a DOCX: not a zip archive")
    try:
        document = docx.Document(io.BytesIO(data))
        pieces = list(_pieces(document))
    except DocumentRejected:
        raise
    except Exception as exc:  # zip, XML and python-docx errors alike mean an unreadable file.
        raise CorruptDocument(f"unreadable DOCX: {type(exc).__name__}: {exc}") from exc
    return _blocks(pieces)


def _pieces(document: Any) -> Iterator[_Piece]:
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            yield from _rows(item)
        else:
            yield _Piece([clean(item.text)], _level(item))


def _rows(table: Table) -> Iterator[_Piece]:
    for row in table.rows:
        texts: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            # A merged cell is listed once per grid column it spans: read it once.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            texts.extend(_cell_texts(cell))
        yield _Piece(texts)


def _cell_texts(cell: Any) -> list[str]:
    texts: list[str] = []
    for item in cell.iter_inner_content():
        if isinstance(item, Table):
            for row in _rows(item):
                texts.extend(row.texts)
        else:
            texts.append(clean(item.text))
    return texts


def _level(paragraph: Any) -> int:
    style = paragraph.style
    for name in (getattr(style, "name", None), getattr(style, "style_id", None)):
        match = _HEADING_STYLE.match((name or "").strip())
        if match:
            return int(match.group(1) or 1) or 1
    return 0


def _blocks(pieces: list[_Piece]) -> list[Block]:
    source = "\n".join(text for piece in pieces for text in piece.texts)
    if len(source) > MAX_DOCUMENT_CHARS:
        raise DocumentTooLarge(
            f"{len(source):,} characters of text, over the {MAX_DOCUMENT_CHARS:,} a document "
            "may hold"
        )
    blocks: list[Block] = []
    headings: list[str] = []
    offset = 0
    for piece in pieces:
        start = offset
        offset += sum(len(text) + 1 for text in piece.texts)
        end = max(start, offset - 1)
        if piece.level:
            heading = " ".join(source[start:end].split())
            if heading:
                set_heading(headings, piece.level, heading)
            continue
        block = text_block(heading_path(headings), source, start, end)
        if block is not None:
            blocks.append(block)
    return blocks
