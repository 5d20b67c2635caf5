"""Typed filters and facet fields of a search, after validation: what the index is asked.

Field names, one namespace for filters and facets: `metadata.<key>` for a key of a
document's metadata, or one of the document's own attributes (`BUILTIN_FIELDS`). The
tenant, access groups, version and text are not fields: a filter can only narrow what the
caller's tenant and groups already allow.

Typed metadata (docs/TOPICS.md): metadata stays string to string in the contract; a value
that reads as a number is also indexed as that number, and one that reads as an RFC 3339
date or date-time also as that instant (UTC). Ranges match those typed forms only, so a
value that is neither never falls inside a range.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.events import MAX_METADATA_VALUE_CHARS

METADATA_PREFIX = "metadata."
#: Attributes every chunk has, filterable (equals, any of) and facetable by name.
BUILTIN_FIELDS = ("source", "title", "heading")
FIELD_PATTERN = r"^(source|title|heading|metadata\.[A-Za-z0-9_-]{1,128})$"
#: Metadata keys indexed for facets when the service names none (RETRIEVAL_FACET_METADATA_KEYS).
DEFAULT_FACET_METADATA_KEYS = ("year", "department", "category", "lang", "type")
MAX_TYPED_FILTERS = 32
MAX_ANY_OF = 64
MAX_FACET_FIELDS = 8
MAX_FACET_LIMIT = 100
DEFAULT_FACET_LIMIT = 10
#: Longest metadata value read as a number: longer digit strings are ids, not quantities.
MAX_NUMBER_CHARS = 32

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})"
)

Field_ = Annotated[str, StringConstraints(pattern=FIELD_PATTERN)]
Value = Annotated[str, StringConstraints(max_length=MAX_METADATA_VALUE_CHARS)]


class Condition(StrEnum):
    """What a typed filter tests."""

    EQUALS = "equals"
    ANY_OF = "any_of"
    NUMBER_RANGE = "range"
    DATE_RANGE = "date_range"


def as_number(value: str) -> float | None:
    """The number a metadata value reads as (decimal, optional exponent), else None."""
    if len(value) > MAX_NUMBER_CHARS or not _NUMBER.fullmatch(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def as_instant(value: str) -> datetime | None:
    """The UTC instant an RFC 3339 date-time or full-date (midnight UTC) reads as, else None."""
    try:
        if _FULL_DATE.fullmatch(value):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        if _DATE_TIME.fullmatch(value):
            # fromisoformat takes at most 6 fraction digits; RFC 3339 allows more.
            trimmed = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("z", "Z"))
            return datetime.fromisoformat(trimmed).astimezone(UTC)
    except ValueError:  # 2024-02-30 and the like: the shape of a date, not a date
        return None
    return None


def instant_text(instant: datetime) -> str:
    """The one RFC 3339 form the index stores and compares: UTC, microseconds, `Z`."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def typed_metadata(metadata: dict[str, str]) -> tuple[dict[str, float], dict[str, str]]:
    """The metadata values that read as numbers, and those that read as dates (as stored)."""
    numbers = {k: n for k, v in metadata.items() if (n := as_number(v)) is not None}
    dates = {k: instant_text(t) for k, v in metadata.items() if (t := as_instant(v)) is not None}
    return numbers, dates


class TypedFilter(BaseModel):
    """One condition on one field; exactly the attributes of its `condition` are set."""

    model_config = ConfigDict(frozen=True)

    field: Field_
    condition: Condition
    equals: Value | None = None
    any_of: tuple[Value, ...] = Field((), max_length=MAX_ANY_OF)
    gte: float | None = Field(None, allow_inf_nan=False)
    lte: float | None = Field(None, allow_inf_nan=False)
    #: Date bounds as UTC instants; a full-date upper bound is already moved to its day's end.
    after: datetime | None = None
    before: datetime | None = None

    @property
    def metadata_key(self) -> str | None:
        """The metadata key of a `metadata.<key>` field; None for a built-in attribute."""
        return self.field.removeprefix(METADATA_PREFIX) if self.is_metadata else None

    @property
    def is_metadata(self) -> bool:
        """Whether the field is a metadata key (not a built-in attribute)."""
        return self.field.startswith(METADATA_PREFIX)

    @model_validator(mode="after")
    def _complete(self) -> TypedFilter:
        if self.condition is Condition.EQUALS and self.equals is None:
            raise ValueError("equals needs a value")
        if self.condition is Condition.ANY_OF and not self.any_of:
            raise ValueError("any_of needs 1 to 64 values")
        if self.condition in (Condition.NUMBER_RANGE, Condition.DATE_RANGE):
            if not self.is_metadata:
                raise ValueError(f"ranges apply to metadata fields only, not to {self.field}")
            low, high = (
                (self.gte, self.lte)
                if self.condition is Condition.NUMBER_RANGE
                else (self.after, self.before)
            )
            if low is None and high is None:
                raise ValueError("a range needs gte, lte or both")
            if low is not None and high is not None and low > high:  # type: ignore[operator]
                raise ValueError("gte is above lte")
        return self


def date_bound(text: str, *, upper: bool) -> datetime | None:
    """A date range bound: empty is none; a full-date upper bound means the end of that day."""
    if not text:
        return None
    instant = as_instant(text)
    if instant is None:
        raise ValueError(f"{text[:40]!r} is not an RFC 3339 date-time (with offset) or date")
    if upper and _FULL_DATE.fullmatch(text):
        return instant + timedelta(days=1) - timedelta(microseconds=1)
    return instant


class FacetRequest(BaseModel):
    """The fields whose values a search counts, and how many values per field."""

    model_config = ConfigDict(frozen=True)

    fields: tuple[Field_, ...] = Field((), max_length=MAX_FACET_FIELDS)
    limit: int = Field(DEFAULT_FACET_LIMIT, ge=1, le=MAX_FACET_LIMIT)


class FacetCounts(BaseModel):
    """One field's values and how many visible chunks hold each, most frequent first."""

    model_config = ConfigDict(frozen=True)

    field: str
    values: tuple[tuple[str, int], ...]
