"""ChunkIndex on a Qdrant server: a dense and a BM25 sparse vector per chunk, fused (RRF, DBSF).

One point per chunk, id = uuid5(tenant/document#index), so a redelivered message
overwrites the same points. The service selects this adapter when RETRIEVAL_QDRANT_URL is
set; without one it embeds Qdrant's engine (`edge_index`). qdrant-client's local mode
(`path=`) still works here, for comparisons only: it scores every point in Python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qdrant_client import AsyncQdrantClient, models

from contracts import IndexStatus, Operation, chunk_id
from retrieval_service.adapters._layout import (
    DENSE,
    LOOKUP_FACTOR,
    PUBLIC_GROUP,
    QDRANT_RRF_K,
    SPARSE,
    candidate_pool,
    chunk_payload,
    facet_fields,
    filter_key,
    fused_order,
    indexed,
    lexical_text,
    passage_hit,
)
from retrieval_service.core import (
    Condition,
    FacetCounts,
    Fusion,
    distribution_based_score_fusion,
    side_weights,
)
from retrieval_service.core.catalog import CatalogEntry, entry_of
from retrieval_service.core.filters import DEFAULT_FACET_METADATA_KEYS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from contracts import DocumentEmbedded, DocumentIndexed
    from retrieval_service.adapters.index import PassageHit
    from retrieval_service.core import Bm25Encoder, SearchQuery, TypedFilter

_KEYWORD_INDEXES = ("tenant", "document_id", "access_groups", "content_hash")


class QdrantChunkIndex:
    """The hybrid chunk index on Qdrant (local path or server URL)."""

    def __init__(
        self,
        client: AsyncQdrantClient,
        *,
        collection: str,
        dimensions: int,
        lexical: Bm25Encoder,
        payload_indexes: bool = True,
        facet_metadata_keys: Sequence[str] = DEFAULT_FACET_METADATA_KEYS,
    ) -> None:
        self._client = client
        # Qdrant counts facets from a keyword index only; one per facetable field.
        self._facet_fields = facet_fields(facet_metadata_keys)
        # Local mode scans every point and ignores payload indexes (with a warning).
        self._payload_indexes = payload_indexes
        self._collection = collection
        self._dimensions = dimensions
        self._lexical = lexical

    @property
    def facetable(self) -> tuple[str, ...]:
        """The fields this index can count values of."""
        return self._facet_fields

    async def ensure_ready(self) -> None:
        """Create the collection (dense cosine + sparse IDF) if missing, and missing indexes.

        Indexes added since the collection was made (a new facet key) are built here, at
        startup, not when a request first asks for them.
        """
        if not await self._client.collection_exists(self._collection):
            await self._client.create_collection(
                self._collection,
                vectors_config={
                    DENSE: models.VectorParams(
                        size=self._dimensions, distance=models.Distance.COSINE
                    )
                },
                sparse_vectors_config={
                    SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
            )
        if not self._payload_indexes:
            return
        existing = (await self._client.get_collection(self._collection)).payload_schema
        for name in (*_KEYWORD_INDEXES, *self._facet_fields):
            if name not in existing:
                await self._client.create_payload_index(
                    self._collection, name, models.PayloadSchemaType.KEYWORD
                )

    async def apply(self, event: DocumentEmbedded) -> DocumentIndexed:
        """Replace a document's chunks by this version's, or delete them."""
        document = _document_filter(event.tenant, event.document_id)
        current = await self._indexed_version(document)
        if current is not None and event.version < current:
            count = await self._count(document)
            return indexed(event, IndexStatus.STALE_IGNORED, count)
        if event.operation is Operation.DELETE:
            await self._client.delete(self._collection, points_selector=document, wait=True)
            return indexed(event, IndexStatus.DELETED, 0)
        points = [self._point(event, i) for i in range(len(event.chunks))]
        await self._client.upsert(self._collection, points=points, wait=True)
        # Chunks past the new end belong to a longer earlier version.
        stale = models.Filter(
            must=[
                *document.must,
                models.FieldCondition(key="chunk_index", range=models.Range(gte=len(points))),
            ]
        )
        await self._client.delete(self._collection, points_selector=stale, wait=True)
        return indexed(event, IndexStatus.INDEXED, len(points))

    async def search(self, query: SearchQuery, dense: list[float]) -> list[PassageHit]:
        """Dense and BM25 candidates under the tenant/group/metadata filter, fused as asked."""
        where = _search_filter(query)
        sparse = self._lexical.encode_query(query.text)
        sparse_query = models.SparseVector(indices=sparse.indices, values=sparse.values)
        if query.fusion is Fusion.SPARSE_ONLY:
            if not sparse.indices:
                return []  # only stopwords: nothing for BM25 to match
            single = {"query": sparse_query, "using": SPARSE}
        elif query.fusion is Fusion.DENSE_ONLY or not sparse.indices:
            single = {"query": dense, "using": DENSE}
        else:
            single = None
        if single is not None:
            response = await self._client.query_points(
                self._collection, **single, query_filter=where, limit=query.top_k, with_payload=True
            )
        else:
            return await self._fused(query, dense, sparse_query, where)
        return [passage_hit(point.id, point.score, point.payload) for point in response.points]

    async def _fused(
        self,
        query: SearchQuery,
        dense: list[float],
        sparse_query: models.SparseVector,
        where: models.Filter,
    ) -> list[PassageHit]:
        """Both sides' candidates, fused by RRF or DBSF (weighted DBSF: here)."""
        candidates = candidate_pool(query.top_k)
        sides = [
            models.Prefetch(query=dense, using=DENSE, filter=where, limit=candidates),
            models.Prefetch(query=sparse_query, using=SPARSE, filter=where, limit=candidates),
        ]
        weights = side_weights(query.dense_weight)
        if query.fusion is Fusion.DBSF and weights is not None:
            # Qdrant's DBSF takes no weights: fetch both sides in one batch, fuse them here.
            responses = await self._client.query_batch_points(
                self._collection,
                requests=[
                    models.QueryRequest(
                        query=side.query,
                        using=side.using,
                        filter=where,
                        limit=candidates,
                    )
                    for side in sides
                ],
            )
            fused = distribution_based_score_fusion(
                [r.points for r in responses],
                key=lambda p: str(p.id),
                score=lambda p: p.score,
                limit=query.top_k,
                weights=weights,
            )
            return await self._with_payloads([(p.id, score) for p, score in fused])
        fusion: models.Query = (
            models.FusionQuery(fusion=models.Fusion.DBSF)
            if query.fusion is Fusion.DBSF
            else models.RrfQuery(
                rrf=models.Rrf(k=QDRANT_RRF_K, weights=list(weights) if weights else None)
            )
        )
        response = await self._client.query_points(
            self._collection,
            prefetch=sides,
            # Both prefetches are filtered already; filtering the fused list again
            # would only repeat the work.
            query=fusion,
            # The whole pool, then the top_k here: equal fused scores come back from the
            # engine in a changing order, which would change the cut.
            limit=candidates,
        )
        ranked = fused_order(response.points, query.top_k)
        return await self._with_payloads([(p.id, p.score) for p in ranked])

    async def _with_payloads(self, scored: list[tuple[Any, float]]) -> list[PassageHit]:
        """Hits for fused (id, score) pairs, in that order: payloads of these points only."""
        if not scored:
            return []
        found = await self._client.retrieve(
            self._collection, ids=[i for i, _ in scored], with_payload=True
        )
        payloads = {str(r.id): r.payload for r in found}
        return [passage_hit(i, score, payloads.get(str(i))) for i, score in scored]

    async def facets(self, query: SearchQuery) -> list[FacetCounts]:
        """Values of the query's facet fields, counted by Qdrant under the search filter."""
        where = _search_filter(query)
        counts = []
        for field in query.facets.fields:
            response = await self._client.facet(
                self._collection,
                key=field,
                facet_filter=where,
                limit=query.facets.limit,
                exact=True,
            )
            values = tuple((str(hit.value), int(hit.count)) for hit in response.hits)
            counts.append(FacetCounts(field=field, values=values))
        return counts

    async def stored_vectors(
        self, tenant: str, content_hashes: Sequence[str]
    ) -> dict[str, list[float]]:
        """Vectors of the tenant's points with these content hashes."""
        if not content_hashes:
            return {}
        points, _ = await self._client.scroll(
            self._collection,
            scroll_filter=models.Filter(
                must=[
                    models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant)),
                    models.FieldCondition(
                        key="content_hash", match=models.MatchAny(any=list(content_hashes))
                    ),
                ]
            ),
            limit=len(content_hashes) * LOOKUP_FACTOR,
            with_payload=["content_hash"],
            with_vectors=[DENSE],
        )
        found: dict[str, list[float]] = {}
        for point in points:
            vectors = point.vector if isinstance(point.vector, dict) else {}
            if point.payload and DENSE in vectors:
                found.setdefault(point.payload["content_hash"], list(vectors[DENSE]))
        return found

    async def chunks(
        self, tenant: str, groups: Sequence[str], chunk_ids: Sequence[str]
    ) -> list[PassageHit]:
        """The chunks with these ids under the tenant and group filter every search uses."""
        if not chunk_ids:
            return []
        points, _ = await self._client.scroll(
            self._collection,
            scroll_filter=models.Filter(
                must=[
                    models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant)),
                    models.FieldCondition(
                        key="access_groups", match=models.MatchAny(any=[PUBLIC_GROUP, *groups])
                    ),
                    models.HasIdCondition(has_id=list(chunk_ids)),
                ]
            ),
            limit=len(chunk_ids),
            with_payload=True,
        )
        return [passage_hit(p.id, 0.0, p.payload) for p in points]

    async def list_documents(
        self, tenant: str, groups: Sequence[str], *, limit: int, after: str | None
    ) -> tuple[list[CatalogEntry], str | None]:
        """A page of the documents the groups may read: the next page's offset, or None."""
        # Every document has a chunk 0: one point per document, paged by point id.
        points, following = await self._client.scroll(
            self._collection,
            scroll_filter=models.Filter(
                must=[
                    models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant)),
                    models.FieldCondition(
                        key="access_groups", match=models.MatchAny(any=[PUBLIC_GROUP, *groups])
                    ),
                    models.FieldCondition(key="chunk_index", range=models.Range(gte=0, lte=0)),
                ]
            ),
            limit=limit,
            offset=after,
            with_payload=["document_id", "title", "source", "version"],
        )
        entries = [entry_of(p.payload or {}) for p in points]
        return entries, (str(following) if following is not None else None)

    async def is_ready(self) -> bool:
        """The collection answers."""
        try:
            return await self._client.collection_exists(self._collection)
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False

    async def close(self) -> None:
        """Close the client (flushes the local store)."""
        await self._client.close()

    def _point(self, event: DocumentEmbedded, i: int) -> models.PointStruct:
        chunk = event.chunks[i]
        sparse = self._lexical.encode_document(lexical_text(event, chunk))
        return models.PointStruct(
            id=chunk_id(event.tenant, event.document_id, chunk.index),
            vector={
                DENSE: chunk.vector(),
                SPARSE: models.SparseVector(indices=sparse.indices, values=sparse.values),
            },
            payload=chunk_payload(event, chunk),
        )

    async def _indexed_version(self, document: models.Filter) -> int | None:
        points, _ = await self._client.scroll(
            self._collection, scroll_filter=document, limit=1, with_payload=["version"]
        )
        return int(points[0].payload["version"]) if points and points[0].payload else None

    async def _count(self, document: models.Filter) -> int:
        result = await self._client.count(self._collection, count_filter=document, exact=True)
        return result.count


def _document_filter(tenant: str, document_id: str) -> models.Filter:
    return models.Filter(
        must=[
            models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant)),
            models.FieldCondition(key="document_id", match=models.MatchValue(value=document_id)),
        ]
    )


def _search_filter(query: SearchQuery) -> models.Filter:
    must: list[models.Condition] = [
        models.FieldCondition(key="tenant", match=models.MatchValue(value=query.tenant)),
        models.FieldCondition(
            key="access_groups", match=models.MatchAny(any=[PUBLIC_GROUP, *query.groups])
        ),
    ]
    must.extend(
        models.FieldCondition(key=f"metadata.{key}", match=models.MatchValue(value=value))
        for key, value in sorted(query.filters.items())
    )
    must.extend(_condition(typed) for typed in query.typed_filters)
    return models.Filter(must=must)


def _condition(typed: TypedFilter) -> models.FieldCondition:
    key = filter_key(typed)
    if typed.condition is Condition.EQUALS:
        return models.FieldCondition(key=key, match=models.MatchValue(value=typed.equals or ""))
    if typed.condition is Condition.ANY_OF:
        return models.FieldCondition(key=key, match=models.MatchAny(any=list(typed.any_of)))
    if typed.condition is Condition.NUMBER_RANGE:
        return models.FieldCondition(key=key, range=models.Range(gte=typed.gte, lte=typed.lte))
    return models.FieldCondition(
        key=key, range=models.DatetimeRange(gte=typed.after, lte=typed.before)
    )
