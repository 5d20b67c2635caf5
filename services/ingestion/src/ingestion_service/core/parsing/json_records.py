"""JSON: an object, or an array of objects; each object (record) becomes a section.

The record's "title", "name" or "id" field is its heading ("record N" without one); its
fields become "key: value", nested ones flattened ("address.city: Paris", "tags: a, b").
The stdlib decoder validates; a small walker over the same text finds where each value
starts, so values map onto the submitted text (an escape's character onto its backslash).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from json.decoder import scanstring
from typing import Any

from ingestion_service.core.parsing.blocks import Block
from ingestion_service.core.parsing.errors import CorruptDocument, UnsupportedDocument
from ingestion_service.core.parsing.records import record_block, record_heading

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|-?Infinity|true|false|null|NaN")
#: A run of literal characters, or one escape (a surrogate pair is one character).
_STRING_PIECE = re.compile(
    r"[^\\]+|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\."
)
_MAX_DEPTH = 64

_Runs = list[tuple[str, int]]


@dataclass(frozen=True)
class _Scalar:
    """A string, number or literal: its text in runs of (text, source offset)."""

    runs: _Runs


def parse(text: str) -> list[Block]:
    """Blocks of a JSON document, one a record; offsets index into `text`."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptDocument(
            f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} (char {exc.pos})"
        ) from exc
    except RecursionError as exc:
        raise CorruptDocument("invalid JSON: nested too deeply") from exc
    walker = _Walker(text)
    root = walker.value(_skip(text, 0), 0)
    records = [root] if isinstance(root, dict) else root if isinstance(root, list) else None
    if records is None or not all(isinstance(r, dict) for r in records):
        raise UnsupportedDocument("JSON documents are an object or an array of objects")
    blocks = []
    for number, record in enumerate(records, start=1):
        fields = list(_flatten(record, ""))
        plain = {key: "".join(t for t, _ in runs) for key, runs in fields}
        block = record_block(record_heading(plain, f"record {number}"), fields, separator="; ")
        if block is not None:
            blocks.append(block)
    return blocks


def _flatten(value: Any, prefix: str) -> Any:
    """(dotted key, value runs) of every scalar under a record; a list of scalars is one."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        if all(isinstance(item, _Scalar) for item in value):
            runs: _Runs = []
            for item in value:
                if runs and item.runs:
                    runs.append((", ", item.runs[0][1]))
                runs.extend(item.runs)
            if runs:
                yield prefix, runs
        else:
            for index, item in enumerate(value, start=1):
                yield from _flatten(item, f"{prefix}.{index}")
    elif value.runs:
        yield prefix, value.runs


class _Walker:
    """Re-reads valid JSON, giving each scalar as runs of (text, source offset)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.end = 0

    def value(self, at: int, depth: int) -> Any:
        """Objects and arrays as dicts and lists, scalars as `_Scalar`s."""
        if depth > _MAX_DEPTH:
            raise CorruptDocument(f"JSON nested over {_MAX_DEPTH} levels deep")
        char = self.text[at]
        if char == "{":
            return self._object(at, depth)
        if char == "[":
            return self._array(at, depth)
        if char == '"':
            return self._string(at)
        # json.loads accepted it: a number, true, false, null, NaN or Infinity.
        match = _SCALAR.match(self.text, at)
        self.end = match.end() if match else at + 1
        return _Scalar([(self.text[at : self.end], at)])

    def _object(self, at: int, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        at = _skip(self.text, at + 1)
        while self.text[at] != "}":
            key, at = scanstring(self.text, at + 1)
            at = _skip(self.text, _skip(self.text, at) + 1)  # past the colon
            result[key] = self.value(at, depth + 1)
            at = _skip(self.text, self.end)
            if self.text[at] == ",":
                at = _skip(self.text, at + 1)
        self.end = at + 1
        return result

    def _array(self, at: int, depth: int) -> list[Any]:
        result: list[Any] = []
        at = _skip(self.text, at + 1)
        while self.text[at] != "]":
            result.append(self.value(at, depth + 1))
            at = _skip(self.text, self.end)
            if self.text[at] == ",":
                at = _skip(self.text, at + 1)
        self.end = at + 1
        return result

    def _string(self, at: int) -> _Scalar:
        _, self.end = scanstring(self.text, at + 1)
        runs: _Runs = []
        for piece in _STRING_PIECE.finditer(self.text, at + 1, self.end - 1):
            raw = piece.group()
            decoded = raw if raw[0] != "\\" else json.loads(f'"{raw}"')
            runs.append((decoded, piece.start()))
        return _Scalar(runs)


def _skip(text: str, at: int) -> int:
    match = _WHITESPACE.match(text, at)
    return match.end() if match else at
