"""ChunkIndex on Qdrant Edge: Qdrant's own Rust engine, inside this process, on local disk.

The embedded default (no RETRIEVAL_QDRANT_URL). Same points, payload and queries as a
Qdrant server (`_layout`): ids uuid5(tenant/document#index), a cosine dense vector and a
BM25 sparse vector with the engine's IDF, tenant/access-group/metadata filters on every
search, fused with RRF or DBSF (weighted DBSF: fused here, the engine's takes no
weights). One shard per collection (the service keeps it in
`<RETRIEVAL_QDRANT_PATH>/edge/<collection>`); its WAL file lock admits one process, which is
why the other services reach the index through this one.

Three constraints of the engine shape this adapter (figures: BENCHMARKS.md):

- Its calls are blocking and hold the GIL. Every call goes through one worker thread, so the
  event loop never runs one and the engine never sees two at once; that also makes each
  `apply` (version check, upsert, stale-chunk delete) one step no search can interleave with.
- Filtered HNSW loses most true neighbours once a tenant's visible set exceeds its full-scan
  threshold (recall@10 0.2-0.4 at 100k), so the dense side is always an exact scan over the
  filtered set, and the shard is created with `m=0`: no graph is ever built.
- There is no background optimizer; `optimize()` blocks the process. The service never calls
  it while serving; `optimize_on_start` compacts segments before the service starts (no
  graph with m=0: seconds, not minutes), for stores that took many writes and deletes.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import qdrant_edge as qe

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
from retrieval_service.core.filters import DEFAULT_FACET_METADATA_KEYS, instant_text

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from contracts import DocumentEmbedded, DocumentIndexed
    from retrieval_service.adapters.index import PassageHit
    from retrieval_service.core import Bm25Encoder, SearchQuery, SparseVector, TypedFilter

ResultT = TypeVar("ResultT")

#: Exact scoring over the filtered set: recall 1.0, cost linear in the tenant's visible chunks.
EXACT = qe.SearchParams(exact=True)
# m=0 builds no HNSW graph: every search is filtered and exact, so a graph would only cost
# optimize() time (68-350 s at 100k, GIL held) and disk. The thresholds are the engine's own.
_NO_GRAPH = qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000)
# Keyword indexes narrow every filter; `is_tenant` lets optimized segments keep a tenant's
# points together. chunk_index is a range index, for the delete of chunks past a new end.
_PAYLOAD_INDEXES: dict[str, qe.PayloadSchemaType | qe.KeywordIndexParams] = {
    "tenant": qe.KeywordIndexParams(is_tenant=True),
    "document_id": qe.PayloadSchemaType.Keyword,
    "access_groups": qe.PayloadSchemaType.Keyword,
    "chunk_index": qe.PayloadSchemaType.Integer,
    "content_hash": qe.PayloadSchemaType.Keyword,
}


class IndexUnavailableError(RuntimeError):
    """The embedded index cannot be opened (held by another process, or incompatible)."""


class EdgeChunkIndex:
    """The hybrid chunk index on an embedded Qdrant Edge shard."""

    def __init__(
        self,
        path: Path,
        *,
        dimensions: int,
        lexical: Bm25Encoder,
        optimize_on_start: bool = False,
        facet_metadata_keys: Sequence[str] = DEFAULT_FACET_METADATA_KEYS,
    ) -> None:
        self._path = path
        # The engine counts facets from a keyword index only; one per facetable field.
        self._facet_fields = facet_fields(facet_metadata_keys)
        self._dimensions = dimensions
        self._lexical = lexical
        self._optimize_on_start = optimize_on_start
        self._shard: qe.EdgeShard | None = None
        self._closed = False
        # One worker: the engine holds the GIL, so more threads add no throughput, and one
        # queue keeps every apply atomic with respect to searches and other applies.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edge-index")

    @property
    def path(self) -> Path:
        """Directory of the shard."""
        return self._path

    async def ensure_ready(self) -> None:
        """Open the shard, or create it with its payload indexes; optionally compact it."""
        await self._run(self._open)

    async def apply(self, event: DocumentEmbedded) -> DocumentIndexed:
        """Replace a document's chunks by this version's, or delete them."""
        return await self._run(self._apply, event)

    async def search(self, query: SearchQuery, dense: list[float]) -> list[PassageHit]:
        """Dense (exact) and BM25 candidates under the tenant/group/metadata filter, fused
        as the query asks (RRF, DBSF, optionally weighted) or one side alone."""
        return await self._run(self._search, query, dense)

    async def facets(self, query: SearchQuery) -> list[FacetCounts]:
        """Values of the query's facet fields, counted by the engine under the search filter."""
        if not query.facets.fields:
            return []
        return await self._run(self._facets, query)

    @property
    def facetable(self) -> tuple[str, ...]:
        """The fields this index can count values of."""
        return self._facet_fields

    async def stored_vectors(
        self, tenant: str, content_hashes: Sequence[str]
    ) -> dict[str, list[float]]:
        """Vectors of the tenant's points with these content hashes."""
        if not content_hashes:
            return {}
        return await self._run(self._stored_vectors, tenant, list(content_hashes))

    async def chunks(
        self, tenant: str, groups: Sequence[str], chunk_ids: Sequence[str]
    ) -> list[PassageHit]:
        """The chunks with these ids under the tenant and group filter every search uses."""
        if not chunk_ids:
            return []
        return await self._run(self._chunks, tenant, list(groups), list(chunk_ids))

    async def list_documents(
        self, tenant: str, groups: Sequence[str], *, limit: int, after: str | None
    ) -> tuple[list[CatalogEntry], str | None]:
        """A page of the documents the groups may read: the next page's offset, or None."""
        return await self._run(self._list_documents, tenant, list(groups), limit, after)

    async def is_ready(self) -> bool:
        """The shard is open.

        Not a call through the worker: an in-process engine answers while it is open, and a
        probe queued behind a burst of writes would time out and take a working index out
        of rotation.
        """
        return self._shard is not None

    async def close(self) -> None:
        """Flush and close the shard (after the calls already queued), then the worker."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._run(self._close)
        finally:
            self._worker.shutdown(wait=True)

    async def optimize(self) -> bool:
        """Compact segments now: blocks every other index call and the GIL while it runs."""
        return await self._run(lambda: self._open_shard().optimize())

    async def _run(self, fn: Callable[..., ResultT], *args: Any) -> ResultT:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, functools.partial(fn, *args))

    # Everything below runs on the worker thread only.

    def _open(self) -> None:
        if self._shard is not None:
            return
        config = qe.EdgeConfig(
            vectors={
                DENSE: qe.EdgeVectorParams(size=self._dimensions, distance=qe.Distance.Cosine)
            },
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            hnsw_config=_NO_GRAPH,
        )
        try:
            if self._path.is_dir() and any(self._path.iterdir()):
                # The config is checked against the stored segments: a store of another
                # vector size fails here, at startup, not at the first write.
                shard = qe.EdgeShard.load(str(self._path), config)
            else:
                shard = qe.EdgeShard.create(str(self._path), config)
        except Exception as error:  # the engine raises bare Exception for everything
            message = f"cannot open the index at {self._path}: {error}"
            if "WouldBlock" in str(error):  # the WAL's file lock
                message += " (another process, or another index object, holds it)"
            raise IndexUnavailableError(message) from error
        existing = shard.info().payload_schema
        wanted = {
            **_PAYLOAD_INDEXES,
            **dict.fromkeys(self._facet_fields, qe.PayloadSchemaType.Keyword),
        }
        for field, schema in wanted.items():
            if field not in existing:
                shard.update(qe.UpdateOperation.create_field_index(field, schema))
        if self._optimize_on_start:
            shard.optimize()
        self._shard = shard

    def _close(self) -> None:
        if self._shard is None:
            return
        shard, self._shard = self._shard, None
        shard.flush()
        shard.close()

    def _open_shard(self) -> qe.EdgeShard:
        if self._shard is None:
            raise IndexUnavailableError("the index is not open: call ensure_ready() first")
        return self._shard

    def _apply(self, event: DocumentEmbedded) -> DocumentIndexed:
        shard = self._open_shard()
        document = _document_filter(event.tenant, event.document_id)
        records, _ = shard.scroll(
            qe.ScrollRequest(limit=1, filter=document, with_payload=["version"])
        )
        current = int(records[0].payload["version"]) if records and records[0].payload else None
        if current is not None and event.version < current:
            count = shard.count(qe.CountRequest(exact=True, filter=document))
            return indexed(event, IndexStatus.STALE_IGNORED, count)
        if event.operation is Operation.DELETE:
            shard.update(qe.UpdateOperation.delete_points_by_filter(document))
            return indexed(event, IndexStatus.DELETED, 0)
        points = [self._point(event, i) for i in range(len(event.chunks))]
        shard.update(qe.UpdateOperation.upsert_points(points))
        # Chunks past the new end belong to a longer earlier version.
        stale = _document_filter(
            event.tenant,
            event.document_id,
            qe.FieldCondition("chunk_index", range=qe.RangeFloat(gte=len(points))),
        )
        shard.update(qe.UpdateOperation.delete_points_by_filter(stale))
        return indexed(event, IndexStatus.INDEXED, len(points))

    def _stored_vectors(self, tenant: str, content_hashes: list[str]) -> dict[str, list[float]]:
        shard = self._open_shard()
        where = qe.Filter(
            must=[
                qe.FieldCondition("tenant", match=qe.MatchValue(tenant)),
                qe.FieldCondition("content_hash", match=qe.MatchAny(content_hashes)),
            ]
        )
        records, _ = shard.scroll(
            qe.ScrollRequest(
                limit=len(content_hashes) * LOOKUP_FACTOR,
                filter=where,
                with_payload=["content_hash"],
                with_vector=[DENSE],
            )
        )
        found: dict[str, list[float]] = {}
        for record in records:
            found.setdefault(record.payload["content_hash"], list(record.vector[DENSE]))
        return found

    def _chunks(self, tenant: str, groups: list[str], chunk_ids: list[str]) -> list[PassageHit]:
        shard = self._open_shard()
        where = qe.Filter(
            must=[
                qe.FieldCondition("tenant", match=qe.MatchValue(tenant)),
                qe.FieldCondition("access_groups", match=qe.MatchAny([PUBLIC_GROUP, *groups])),
                qe.HasIdCondition(set(chunk_ids)),
            ]
        )
        records, _ = shard.scroll(
            qe.ScrollRequest(limit=len(chunk_ids), filter=where, with_payload=True)
        )
        return [passage_hit(r.id, 0.0, r.payload) for r in records]

    def _list_documents(
        self, tenant: str, groups: list[str], limit: int, after: str | None
    ) -> tuple[list[CatalogEntry], str | None]:
        # Every document has a chunk 0: one point per document, paged by point id.
        where = qe.Filter(
            must=[
                qe.FieldCondition("tenant", match=qe.MatchValue(tenant)),
                qe.FieldCondition("access_groups", match=qe.MatchAny([PUBLIC_GROUP, *groups])),
                qe.FieldCondition("chunk_index", range=qe.RangeFloat(gte=0, lte=0)),
            ]
        )
        records, following = self._open_shard().scroll(
            qe.ScrollRequest(
                offset=after,
                limit=limit,
                filter=where,
                with_payload=["document_id", "title", "source", "version"],
            )
        )
        return [entry_of(r.payload) for r in records], (
            str(following) if following is not None else None
        )

    def _facets(self, query: SearchQuery) -> list[FacetCounts]:
        shard = self._open_shard()
        where = _search_filter(query)
        counts = []
        for field in query.facets.fields:
            response = shard.facet(
                qe.FacetRequest(field, limit=query.facets.limit, exact=True, filter=where)
            )
            values = tuple((str(hit.value), int(hit.count)) for hit in response.hits)
            counts.append(FacetCounts(field=field, values=values))
        return counts

    def _point(self, event: DocumentEmbedded, i: int) -> qe.Point:
        chunk = event.chunks[i]
        sparse = self._lexical.encode_document(lexical_text(event, chunk))
        return qe.Point(
            chunk_id(event.tenant, event.document_id, chunk.index),
            {DENSE: chunk.vector(), SPARSE: qe.SparseVector(sparse.indices, sparse.values)},
            chunk_payload(event, chunk),
        )

    def _search(self, query: SearchQuery, dense: list[float]) -> list[PassageHit]:
        shard = self._open_shard()
        where = _search_filter(query)
        sparse = self._lexical.encode_query(query.text)
        if query.fusion is Fusion.SPARSE_ONLY:
            if not sparse.indices:
                return []  # only stopwords: nothing for BM25 to match
            request = qe.QueryRequest(
                query=_sparse_query(sparse), filter=where, limit=query.top_k, with_payload=True
            )
        elif query.fusion is Fusion.DENSE_ONLY or not sparse.indices:
            request = qe.QueryRequest(
                query=qe.Query.Nearest(dense, using=DENSE),
                filter=where,
                params=EXACT,
                limit=query.top_k,
                with_payload=True,
            )
        else:
            candidates = candidate_pool(query.top_k)
            dense_side = qe.Query.Nearest(dense, using=DENSE)
            weights = side_weights(query.dense_weight)
            if query.fusion is Fusion.DBSF and weights is not None:
                # The engine's DBSF takes no weights: fetch both sides, fuse them here.
                sides = [
                    shard.query(
                        qe.QueryRequest(
                            query=side,
                            filter=where,
                            params=params,
                            limit=candidates,
                        )
                    )
                    for side, params in ((dense_side, EXACT), (_sparse_query(sparse), None))
                ]
                fused = distribution_based_score_fusion(
                    sides,
                    key=lambda p: str(p.id),
                    score=lambda p: p.score,
                    limit=query.top_k,
                    weights=weights,
                )
                return _with_payloads(shard, [(p.id, score) for p, score in fused])
            request = qe.QueryRequest(
                prefetches=[
                    qe.Prefetch(query=dense_side, filter=where, params=EXACT, limit=candidates),
                    qe.Prefetch(query=_sparse_query(sparse), filter=where, limit=candidates),
                ],
                # Both prefetches are filtered already; filtering the fused list again
                # would only repeat the work.
                query=(
                    qe.Fusion.Dbsf()
                    if query.fusion is Fusion.DBSF
                    else qe.Fusion.Rrf(k=QDRANT_RRF_K, weights=list(weights) if weights else None)
                ),
                # The whole pool, then the top_k here: equal fused scores come back from
                # the engine in a changing order, which would change the cut.
                limit=candidates,
            )
            ranked = fused_order(shard.query(request), query.top_k)
            return _with_payloads(shard, [(p.id, p.score) for p in ranked])
        return [passage_hit(p.id, p.score, p.payload) for p in shard.query(request)]


def _with_payloads(shard: qe.EdgeShard, scored: list[tuple[Any, float]]) -> list[PassageHit]:
    """Hits for fused (id, score) pairs, in that order: payloads read for these points only,
    not for the whole candidate pool."""
    if not scored:
        return []
    found = shard.retrieve([i for i, _ in scored], with_payload=True, with_vector=False)
    payloads = {str(r.id): r.payload for r in found}
    return [passage_hit(i, score, payloads.get(str(i))) for i, score in scored]


def _sparse_query(sparse: SparseVector) -> qe.Query:
    return qe.Query.Nearest(qe.SparseVector(sparse.indices, sparse.values), using=SPARSE)


def _document_filter(tenant: str, document_id: str, *more: qe.FieldCondition) -> qe.Filter:
    return qe.Filter(
        must=[
            qe.FieldCondition("tenant", match=qe.MatchValue(tenant)),
            qe.FieldCondition("document_id", match=qe.MatchValue(document_id)),
            *more,
        ]
    )


def _search_filter(query: SearchQuery) -> qe.Filter:
    must = [
        qe.FieldCondition("tenant", match=qe.MatchValue(query.tenant)),
        qe.FieldCondition("access_groups", match=qe.MatchAny([PUBLIC_GROUP, *query.groups])),
    ]
    must.extend(
        qe.FieldCondition(f"metadata.{key}", match=qe.MatchValue(value))
        for key, value in sorted(query.filters.items())
    )
    must.extend(_condition(typed) for typed in query.typed_filters)
    return qe.Filter(must=must)


def _condition(typed: TypedFilter) -> qe.FieldCondition:
    key = filter_key(typed)
    if typed.condition is Condition.EQUALS:
        return qe.FieldCondition(key, match=qe.MatchValue(typed.equals or ""))
    if typed.condition is Condition.ANY_OF:
        return qe.FieldCondition(key, match=qe.MatchAny(list(typed.any_of)))
    if typed.condition is Condition.NUMBER_RANGE:
        return qe.FieldCondition(key, range=qe.RangeFloat(gte=typed.gte, lte=typed.lte))
    return qe.FieldCondition(
        key,
        range=qe.RangeDateTime(
            gte=instant_text(typed.after) if typed.after else None,
            lte=instant_text(typed.before) if typed.before else None,
        ),
    )
