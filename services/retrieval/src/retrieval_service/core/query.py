"""A search request after validation: what the index is asked."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from contracts.events import METADATA_KEY_PATTERN, TENANT_PATTERN
from retrieval_service.core.filters import MAX_TYPED_FILTERS, FacetRequest, TypedFilter

MAX_QUERY_CHARS = 4000
MAX_TOP_K = 100


class Fusion(StrEnum):
    """How dense and lexical candidates are combined."""

    RRF = "rrf"
    DENSE_ONLY = "dense"
    SPARSE_ONLY = "sparse"
    DBSF = "dbsf"

    @property
    def is_fused(self) -> bool:
        """Whether both sides are searched and combined (a dense weight applies)."""
        return self in (Fusion.RRF, Fusion.DBSF)


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
    #: Typed conditions, ANDed with `filters` (which are equals on metadata keys).
    typed_filters: tuple[TypedFilter, ...] = Field((), max_length=MAX_TYPED_FILTERS)
    #: Fields to count values of, within the same tenant, groups and filters.
    facets: FacetRequest = Field(default_factory=FacetRequest)
    fusion: Fusion = Fusion.RRF
    #: Share of the dense side in a fused method; None means equal weights.
    dense_weight: float | None = Field(None, ge=0.0, le=1.0, allow_inf_nan=False)

    @field_validator("typed_filters")
    @classmethod
    def _bounded_conditions(
        cls, value: tuple[TypedFilter, ...], info: ValidationInfo
    ) -> tuple[TypedFilter, ...]:
        total = len(value) + len(info.data.get("filters") or {})
        if total > MAX_TYPED_FILTERS:
            raise ValueError(f"at most {MAX_TYPED_FILTERS} conditions with filters, got {total}")
        return value

    @field_validator("dense_weight")
    @classmethod
    def _weight_needs_two_sides(cls, value: float | None, info: ValidationInfo) -> float | None:
        fusion = info.data.get("fusion")
        if value is not None and fusion is not None and not fusion.is_fused:
            raise ValueError(f"applies to RRF and DBSF only, not to {fusion.value} alone")
        return value
