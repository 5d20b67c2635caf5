"""The lexical (BM25) side in OpenSearch, for deployments that run it.

OpenSearch brings analyzers, synonyms and per-field boosts that a sparse vector
cannot; dense vectors stay in Qdrant and `SplitChunkIndex` fuses the two. Documents
are chunk-level, `_id` = chunk id, so writes are idempotent like Qdrant's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException
from opensearchpy.helpers import async_bulk

from contracts import Operation, chunk_id
from retrieval_service.adapters._layout import METADATA_DATE, METADATA_NUMBER, filter_key
from retrieval_service.adapters.index import PassageHit
from retrieval_service.core import Condition, typed_metadata
from retrieval_service.core.filters import BUILTIN_FIELDS, instant_text

if TYPE_CHECKING:
    from contracts import DocumentEmbedded
    from retrieval_service.core import SearchQuery, TypedFilter

PUBLIC_GROUP = "*"
#: Keyword copies of source, title and heading (those are analyzed text or not indexed).
_EXACT = "exact"

INDEX_BODY: dict[str, Any] = {
    "settings": {"index": {"number_of_shards": 1}},
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "tenant": {"type": "keyword"},
            "document_id": {"type": "keyword"},
            "chunk_index": {"type": "integer"},
            "version": {"type": "long"},
            "access_groups": {"type": "keyword"},
            "metadata": {"type": "flattened"},
            "title": {"type": "text", "analyzer": "english"},
            "heading": {"type": "text", "analyzer": "english"},
            "text": {"type": "text", "analyzer": "english"},
            "source": {"type": "keyword", "index": False},
            # The typed forms of metadata values and exact copies of the built-in
            # attributes, for typed filters (core.filters); added to older indexes by
            # ensure_ready, filled for documents indexed from then on.
            METADATA_NUMBER: {"type": "object", "dynamic": True},
            METADATA_DATE: {"type": "object", "dynamic": True},
            _EXACT: {"properties": {f: {"type": "keyword"} for f in BUILTIN_FIELDS}},
        },
        "dynamic_templates": [
            {"numbers": {"path_match": f"{METADATA_NUMBER}.*", "mapping": {"type": "double"}}},
            {
                "dates": {
                    "path_match": f"{METADATA_DATE}.*",
                    "mapping": {"type": "date", "format": "strict_date_optional_time_nanos"},
                }
            },
        ],
    },
}


class OpenSearchLexicalIndex:
    """BM25 over chunk text, title and heading, under the tenant/group/metadata filter."""

    def __init__(self, client: AsyncOpenSearch, *, index: str) -> None:
        self._client = client
        self._index = index

    async def ensure_ready(self) -> None:
        """Create the index with its mapping if missing."""
        if not await self._client.indices.exists(index=self._index):
            await self._client.indices.create(index=self._index, body=INDEX_BODY)
            return
        # Adding fields to a mapping is allowed in place; older documents lack them.
        await self._client.indices.put_mapping(index=self._index, body=INDEX_BODY["mappings"])

    async def apply(self, event: DocumentEmbedded) -> None:
        """Mirror one document version (the version check is done by the dense side)."""
        document = document_query(event.tenant, event.document_id)
        if event.operation is Operation.DELETE:
            await self._client.delete_by_query(index=self._index, body=document, refresh=True)
            return
        await async_bulk(self._client, bulk_actions(self._index, event), refresh="wait_for")
        past_end = document_query(event.tenant, event.document_id, from_chunk=len(event.chunks))
        await self._client.delete_by_query(index=self._index, body=past_end, refresh=True)

    async def search(self, query: SearchQuery) -> list[PassageHit]:
        """BM25 hits, best first."""
        response = await self._client.search(index=self._index, body=search_body(query))
        return [_hit(h) for h in response["hits"]["hits"]]

    async def is_ready(self) -> bool:
        """The cluster answers and the index exists."""
        try:
            return bool(await self._client.indices.exists(index=self._index))
        except OpenSearchException:
            return False

    async def close(self) -> None:
        """Close the HTTP pool."""
        await self._client.close()


def document_query(
    tenant: str, document_id: str, *, from_chunk: int | None = None
) -> dict[str, Any]:
    """A query for one document's chunks, optionally only those from `from_chunk` on."""
    must: list[dict[str, Any]] = [
        {"term": {"tenant": tenant}},
        {"term": {"document_id": document_id}},
    ]
    if from_chunk is not None:
        must.append({"range": {"chunk_index": {"gte": from_chunk}}})
    return {"query": {"bool": {"filter": must}}}


def bulk_actions(index: str, event: DocumentEmbedded) -> list[dict[str, Any]]:
    """One index action per chunk, `_id` = the chunk id."""
    numbers, dates = typed_metadata(event.metadata)
    return [
        {
            "_op_type": "index",
            "_index": index,
            "_id": chunk_id(event.tenant, event.document_id, chunk.index),
            "_source": {
                "tenant": event.tenant,
                "document_id": event.document_id,
                "chunk_index": chunk.index,
                "version": event.version,
                "access_groups": event.access_groups or [PUBLIC_GROUP],
                "metadata": event.metadata,
                "title": event.title,
                "heading": chunk.heading,
                "text": chunk.text,
                "source": event.source,
                METADATA_NUMBER: numbers,
                METADATA_DATE: dates,
                _EXACT: {"source": event.source, "title": event.title, "heading": chunk.heading},
            },
        }
        for chunk in event.chunks
    ]


def search_body(query: SearchQuery) -> dict[str, Any]:
    """BM25 over text, heading and title (boosted) under the access filter."""
    filters: list[dict[str, Any]] = [
        {"term": {"tenant": query.tenant}},
        {"terms": {"access_groups": [PUBLIC_GROUP, *query.groups]}},
    ]
    filters.extend(
        {"term": {f"metadata.{key}": value}} for key, value in sorted(query.filters.items())
    )
    filters.extend(_condition(typed) for typed in query.typed_filters)
    return {
        "size": query.top_k,
        "query": {
            "bool": {
                "filter": filters,
                "must": {
                    "multi_match": {
                        "query": query.text,
                        "fields": ["text", "heading^2", "title^2"],
                        "type": "most_fields",
                    }
                },
            }
        },
    }


def _condition(typed: TypedFilter) -> dict[str, Any]:
    key = filter_key(typed)
    if not typed.is_metadata:
        key = f"{_EXACT}.{key}"
    if typed.condition is Condition.EQUALS:
        return {"term": {key: typed.equals}}
    if typed.condition is Condition.ANY_OF:
        return {"terms": {key: list(typed.any_of)}}
    if typed.condition is Condition.NUMBER_RANGE:
        bounds: dict[str, object] = {"gte": typed.gte, "lte": typed.lte}
    else:
        bounds = {
            "gte": instant_text(typed.after) if typed.after else None,
            "lte": instant_text(typed.before) if typed.before else None,
        }
    return {"range": {key: {k: v for k, v in bounds.items() if v is not None}}}


def _hit(hit: dict[str, Any]) -> PassageHit:
    source = hit["_source"]
    return PassageHit(
        chunk_id=hit["_id"],
        document_id=source["document_id"],
        chunk_index=int(source["chunk_index"]),
        text=source["text"],
        title=source.get("title", ""),
        source=source.get("source", ""),
        heading=source.get("heading", ""),
        score=float(hit["_score"] or 0.0),
        version=int(source.get("version", 0)),
        metadata=dict(source.get("metadata") or {}),
    )
