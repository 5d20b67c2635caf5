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
from retrieval_service.adapters.index import PassageHit

if TYPE_CHECKING:
    from contracts import DocumentEmbedded
    from retrieval_service.core import SearchQuery

PUBLIC_GROUP = "*"

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
        },
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
