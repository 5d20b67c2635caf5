"""The document catalog's pure parts: a listed document and the page size rule."""

from __future__ import annotations

from typing import NamedTuple

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class CatalogEntry(NamedTuple):
    """One document as the index holds it (read from its first chunk)."""

    document_id: str
    title: str
    source: str
    version: int


def page_size(requested: int) -> int | None:
    """The page size to use, or None when the request's is out of range."""
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return requested if 0 < requested <= MAX_PAGE_SIZE else None


def entry_of(payload: dict[str, object]) -> CatalogEntry:
    """The catalog entry a chunk's payload describes."""
    return CatalogEntry(
        document_id=str(payload.get("document_id", "")),
        title=str(payload.get("title", "") or ""),
        source=str(payload.get("source", "") or ""),
        version=int(payload.get("version", 0) or 0),  # type: ignore[call-overload]
    )
