"""What JSON and CSV share: a record becomes a section of "field: value" lines.

Values map onto the source character by character; the labels ("address.city: ", "; ")
are written by the parser and stand where the value they label starts, so a record's
block spans exactly its record in the source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingestion_service.core.parsing.blocks import Block, block_from_runs

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Fields whose value names a record, in order of preference.
TITLE_FIELDS = ("title", "name", "id")
MAX_HEADING_CHARS = 200


def record_block(
    heading: str, fields: Iterable[tuple[str, list[tuple[str, int]]]], *, separator: str
) -> Block | None:
    """A record's block: each field's label, then its value's runs, fields separated."""
    runs: list[tuple[str, int]] = []
    for label, value in fields:
        if not value:
            continue
        start = value[0][1]
        if runs:
            runs.append((separator, start))
        runs.append((f"{label}: ", start))
        runs.extend(value)
    return block_from_runs(heading, runs)


def record_heading(values: dict[str, str], fallback: str) -> str:
    """The record's title, name or id field, else `fallback` ('record 3')."""
    for name in TITLE_FIELDS:
        for key, value in values.items():
            if key.casefold() == name and " ".join(value.split()):
                return " ".join(value.split())[:MAX_HEADING_CHARS]
    return fallback
