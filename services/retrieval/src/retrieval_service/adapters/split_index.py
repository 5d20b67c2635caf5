"""ChunkIndex with dense vectors in Qdrant and BM25 in OpenSearch, fused here (RRF or DBSF)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

from contracts import IndexStatus
from retrieval_service.core import (
    Fusion,
    distribution_based_score_fusion,
    reciprocal_rank_fusion,
    side_weights,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from contracts import DocumentEmbedded, DocumentIndexed
    from retrieval_service.adapters.index import ChunkIndex, PassageHit
    from retrieval_service.adapters.opensearch_lexical import OpenSearchLexicalIndex
    from retrieval_service.core import FacetCounts, SearchQuery
    from retrieval_service.core.catalog import CatalogEntry

# Candidates per side before fusion, as in Qdrant's own prefetch.
_CANDIDATE_FACTOR = 4


class SplitChunkIndex:
    """Qdrant (server or embedded) decides versions and holds vectors; OpenSearch the text."""

    def __init__(self, dense: ChunkIndex, lexical: OpenSearchLexicalIndex) -> None:
        self._dense = dense
        self._lexical = lexical

    async def ensure_ready(self) -> None:
        """Both stores."""
        await self._dense.ensure_ready()
        await self._lexical.ensure_ready()

    async def apply(self, event: DocumentEmbedded) -> DocumentIndexed:
        """Qdrant first (its version check decides), then the lexical mirror.

        A crash between the two is repaired by the redelivery: both writes are idempotent.
        """
        indexed = await self._dense.apply(event)
        if indexed.status is not IndexStatus.STALE_IGNORED:
            await self._lexical.apply(event)
        return indexed

    async def chunks(
        self, tenant: str, groups: Sequence[str], chunk_ids: Sequence[str]
    ) -> list[PassageHit]:
        """From Qdrant, which holds every chunk's payload."""
        return await self._dense.chunks(tenant, groups, chunk_ids)

    async def search(self, query: SearchQuery, dense: list[float]) -> list[PassageHit]:
        """Dense from Qdrant, BM25 from OpenSearch, fused here as the query asks."""
        if query.fusion is Fusion.DENSE_ONLY:
            return await self._dense.search(query, dense)
        if query.fusion is Fusion.SPARSE_ONLY:
            return await self._lexical.search(query)
        wide = query.model_copy(update={"top_k": query.top_k * _CANDIDATE_FACTOR})
        dense_hits, lexical_hits = await asyncio.gather(
            self._dense.search(
                wide.model_copy(update={"fusion": Fusion.DENSE_ONLY, "dense_weight": None}), dense
            ),
            self._lexical.search(wide),
        )
        sides = [dense_hits, lexical_hits]
        weights = side_weights(query.dense_weight)
        fused = (
            distribution_based_score_fusion(
                sides,
                key=lambda h: h.chunk_id,
                score=lambda h: h.score,
                limit=query.top_k,
                weights=weights,
            )
            if query.fusion is Fusion.DBSF
            else reciprocal_rank_fusion(
                sides, key=lambda h: h.chunk_id, limit=query.top_k, weights=weights
            )
        )
        return [dataclasses.replace(hit, score=score) for hit, score in fused]

    async def facets(self, query: SearchQuery) -> list[FacetCounts]:
        """From Qdrant, which holds every chunk's payload under the same filter."""
        return await self._dense.facets(query)

    @property
    def facetable(self) -> tuple[str, ...]:
        """Qdrant's facetable fields."""
        return self._dense.facetable

    async def stored_vectors(
        self, tenant: str, content_hashes: Sequence[str]
    ) -> dict[str, list[float]]:
        """Vectors live in Qdrant only."""
        return await self._dense.stored_vectors(tenant, content_hashes)

    async def list_documents(
        self, tenant: str, groups: Sequence[str], *, limit: int, after: str | None
    ) -> tuple[list[CatalogEntry], str | None]:
        """The dense index's documents: it holds every chunk with its payload."""
        return await self._dense.list_documents(tenant, groups, limit=limit, after=after)  # type: ignore[attr-defined]

    async def is_ready(self) -> bool:
        """Both stores answer."""
        return all(await asyncio.gather(self._dense.is_ready(), self._lexical.is_ready()))

    async def close(self) -> None:
        """Both clients."""
        await self._dense.close()
        await self._lexical.close()
