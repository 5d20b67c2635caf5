"""Turns a document body into blocks of text under their heading paths (one module a format).

`parse` decodes a text format's bytes, replaces control characters and hands the text to
its format's parser; PDF and DOCX bytes go to theirs. Every block maps its text back onto
the document's source text (see `blocks`); every refusal is a `DocumentRejected`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts import MediaType
from contracts.events import MAX_DOCUMENT_CHARS
from ingestion_service.core.parsing import (
    csv_records,
    docx,
    html,
    json_records,
    markdown,
    pdf,
    plain,
)
from ingestion_service.core.parsing.blocks import Block
from ingestion_service.core.parsing.decoding import clean, decode
from ingestion_service.core.parsing.errors import (
    CorruptDocument,
    DocumentRejected,
    DocumentTooLarge,
    EncryptedDocument,
    UnsupportedDocument,
)

if TYPE_CHECKING:
    from collections.abc import Callable

_TEXT_PARSERS: dict[MediaType, Callable[[str], list[Block]]] = {
    MediaType.PLAIN: plain.parse,
    MediaType.MARKDOWN: markdown.parse,
    MediaType.HTML: html.parse,
    MediaType.JSON: json_records.parse,
    MediaType.CSV: csv_records.parse,
}
_BINARY_PARSERS: dict[MediaType, Callable[[bytes], list[Block]]] = {
    MediaType.PDF: pdf.parse,
    MediaType.DOCX: docx.parse,
}


def parse(body: str | bytes, media_type: MediaType) -> list[Block]:
    """Blocks of a body; markup is removed, headings become heading paths.

    Raises a `DocumentRejected` subclass, and nothing else, for a body that cannot be read.
    """
    binary = _BINARY_PARSERS.get(media_type)
    if binary is not None:
        if isinstance(body, str):
            raise UnsupportedDocument(f"{media_type.value} is binary: send it as base64 content")
        return binary(body)
    text = decode(body, media_type) if isinstance(body, bytes) else body
    if len(text) > MAX_DOCUMENT_CHARS:
        raise DocumentTooLarge(
            f"{len(text):,} characters of text, over the {MAX_DOCUMENT_CHARS:,} a document may hold"
        )
    return _TEXT_PARSERS[media_type](clean(text))


__all__ = (
    "Block",
    "CorruptDocument",
    "DocumentRejected",
    "DocumentTooLarge",
    "EncryptedDocument",
    "UnsupportedDocument",
    "clean",
    "decode",
    "parse",
)
