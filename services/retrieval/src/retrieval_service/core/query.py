"""A search request after validation: what the index is asked."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.events import METADATA_KEY_PATTERN, TENANT_PATTERN

MAX_QUERY_CHARS = 4000
MAX_TOP_K = 100


class Fusion(StrEnum):
    """How dense and lexical candidates are combined."""

    RRF = "rrf"
    DENSE_ONLY = "dense"
    SPARSE_ONLY = "sparse"


class SearchQuery(BaseModel):
    """Validated search: tenant and groups are enforced by the index, never trusted later."""

    model_config = ConfigDict(frozen=True)

    tenant: Annotated[str, StringConstraints(pattern=TENANT_PATTERN)]
    groups: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=256
    )
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUERY_CHARS)
    ]
    top_k: int = Field(10, ge=1, le=MAX_TOP_K)
    filters: dict[Annotated[str, StringConstraints(pattern=METADATA_KEY_PATTERN)], str] = Field(
        default_factory=dict, max_length=32
    )
    fusion: Fusion = Fusion.RRF
