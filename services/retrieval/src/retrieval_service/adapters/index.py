"""The chunk index behind a Protocol: Qdrant here, OpenSearch-backed later, same calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from contracts import DocumentEmbedded, DocumentIndexed
    from retrieval_service.core import FacetCounts, SearchQuery


@dataclass(frozen=True)
class PassageHit:
    """One search result."""

    chunk_id: str
    document_id: str
    chunk_index: int
    text: str
    title: str
    source: str
    heading: str
    score: float
    version: int
    metadata: dict[str, str] = field(default_factory=dict)
    #: 1-based page of a paged format, else None; [start, end) in the document's text.
    page: int | None = None
    start: int = 0
    end: int = 0
    #: The first stage's score when the second stage re-scored the hit (`score` is then its).
    fused_score: float | None = None


class ChunkIndex(Protocol):
    """Writes documents' chunks and searches them, tenant and groups enforced."""

    async def ensure_ready(self) -> None:
        """Create the collection and indexes if missing."""
        ...

    async def apply(self, event: DocumentEmbedded) -> DocumentIndexed:
        """Upsert or delete one document version; idempotent, older versions ignored."""
        ...

    async def search(self, query: SearchQuery, dense: list[float]) -> list[PassageHit]:
        """Hybrid search for `query`, whose dense vector is `dense`."""
        ...

    async def facets(self, query: SearchQuery) -> list[FacetCounts]:
        """Counts of the values of `query.facets.fields`, in that order, under the same
        tenant, group and metadata filter as `search`; counted by the store, never here."""
        ...

    @property
    def facetable(self) -> tuple[str, ...]:
        """The fields `facets` can count (each has a keyword index)."""
        ...

    async def stored_vectors(
        self, tenant: str, content_hashes: Sequence[str]
    ) -> dict[str, list[float]]:
        """Dense vectors the tenant's chunks already hold, by content hash (found ones only)."""
        ...

    async def chunks(
        self, tenant: str, groups: Sequence[str], chunk_ids: Sequence[str]
    ) -> list[PassageHit]:
        """The chunks with these ids that the tenant's user in `groups` may read; others absent."""
        ...

    async def is_ready(self) -> bool:
        """Whether the store answers."""
        ...

    async def close(self) -> None:
        """Release the store."""
        ...
