"""CSV: a header row, then records; each row becomes a section "column: value; column: value".

The stdlib `csv` reader reads the rows (the delimiter is the one of , ; tab | most frequent
in the header line); each field's value is then found in its row's source text, so values
map onto the submitted text. The row's "title", "name" or "id" column is its heading
("row N" without one).
"""

from __future__ import annotations

import csv
import re
from typing import TYPE_CHECKING

from ingestion_service.core.parsing.errors import CorruptDocument
from ingestion_service.core.parsing.records import record_block, record_heading

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ingestion_service.core.parsing.blocks import Block

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_DELIMITERS = (",", ";", "\t", "|")


def parse(text: str) -> list[Block]:
    """Blocks of a CSV document, one a row; offsets index into `text`."""
    line_starts: list[int] = []

    def lines() -> Iterator[str]:
        for match in _LINE.finditer(text):
            line_starts.append(match.start())
            yield match.group()

    first_line = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count)
    reader = csv.reader(lines(), delimiter=delimiter, quotechar='"', strict=False)
    blocks: list[Block] = []
    try:
        header = next(reader, None)
        if header is None:
            return []
        columns = [name.strip() or f"column {i}" for i, name in enumerate(header, start=1)]
        consumed = reader.line_num
        for number, row in enumerate(reader, start=1):
            row_start = line_starts[consumed]
            consumed = reader.line_num
            row_end = line_starts[consumed] if consumed < len(line_starts) else len(text)
            fields = _field_runs(text, row_start, row_end, row)
            named = [
                (columns[i] if i < len(columns) else f"column {i + 1}", runs)
                for i, runs in enumerate(fields)
            ]
            values = {name: value for name, value in zip(columns, row, strict=False)}
            block = record_block(record_heading(values, f"row {number}"), named, separator="; ")
            if block is not None:
                blocks.append(block)
    except csv.Error as exc:
        raise CorruptDocument(f"invalid CSV at line {reader.line_num}: {exc}") from exc
    return blocks


def _field_runs(text: str, start: int, end: int, row: list[str]) -> list[list[tuple[str, int]]]:
    """Each value's runs in the row's source `text[start:end]`, found in order."""
    cursor = start
    fields = []
    for value in row:
        runs: list[tuple[str, int]] = []
        # A doubled quote ("") reads as one: the pieces between quotes are verbatim.
        for index, piece in enumerate(value.split('"')):
            if index:
                at = text.find('""', cursor, end)
                at = cursor if at < 0 else at
                runs.append(('"', at))
                cursor = at + 2 if at >= 0 else cursor
            if piece:
                at = text.find(piece, cursor, end)
                at = cursor if at < 0 else at
                runs.append((piece, at))
                cursor = at + len(piece)
        fields.append(runs)
    return fields
