"""From a text format's bytes to its text, and from any text to text without control characters."""

from __future__ import annotations

import codecs
import re

from bs4.dammit import UnicodeDammit

from contracts import MediaType
from ingestion_service.core.parsing.errors import CorruptDocument

#: C0 and C1 control characters other than tab and line breaks: never text, often a trap
#: (a NUL ends strings in C libraries). Replaced by a space, so offsets stay put.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def clean(text: str) -> str:
    """Control characters replaced by spaces, one for one, so offsets stay put."""
    return _CONTROL.sub(" ", text)


def decode(body: bytes, media_type: MediaType) -> str:
    """The text of a text format's bytes: HTML by its declared charset, the rest UTF-8.

    A byte order mark (UTF-8, UTF-16 or UTF-32) is honoured and dropped.
    """
    if media_type is MediaType.HTML:
        markup = UnicodeDammit(body, is_html=True).unicode_markup
        if markup is None:
            raise CorruptDocument("the HTML's encoding could not be determined")
        return markup.removeprefix("\ufeff")
    encoding = next((name for bom, name in _BOMS if body.startswith(bom)), "utf-8")
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CorruptDocument(
            f"not {encoding.upper()} text: {exc.reason} at byte {exc.start}"
        ) from exc
