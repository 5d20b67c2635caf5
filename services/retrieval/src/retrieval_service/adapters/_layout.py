"""The point layout both Qdrant engines share: vector names, payload fields, fusion constants.

The server client (`qdrant_index`) and the embedded engine (`edge_index`) write the same
payload and read it back the same way, so a collection means the same thing on either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts import DocumentIndexed, IndexStatus
from retrieval_service.adapters.index import PassageHit
from retrieval_service.core.filters import (
    BUILTIN_FIELDS,
    METADATA_PREFIX,
    Condition,
    typed_metadata,
)
from retrieval_service.core.fusion import RRF_K
from retrieval_service.core.query import MAX_TOP_K

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from contracts import DocumentEmbedded
    from contracts.events import EmbeddedChunk
    from retrieval_service.core import TypedFilter

DENSE = "dense"
SPARSE = "bm25"
#: Stored in `access_groups` of a document readable by its whole tenant.
PUBLIC_GROUP = "*"
# Qdrant scores 1 / (rank + k - 1) and defaults k to 2, which lets one outlier first place
# outvote the other side; k = RRF_K + 1 gives the textbook 1 / (60 + rank), as core.fusion does.
QDRANT_RRF_K = RRF_K + 1
# Candidates per side before fusion: RRF needs more than top_k to reorder.
CANDIDATE_FACTOR = 4


def candidate_pool(top_k: int) -> int:
    """Candidates per side before fusion: the same for every top_k up to MAX_TOP_K.

    RRF ranks and DBSF's normalisation are taken over this pool, so a pool that grew with
    top_k gave a top_k=10 search another order than the first 10 of a top_k=50 one (and the
    second stage re-scored other candidates than the fused list a user sees).
    """
    return max(top_k, MAX_TOP_K) * CANDIDATE_FACTOR


def fused_order(points: Sequence[Any], top_k: int) -> list[Any]:
    """The first top_k of fused points by descending score, equal scores by point id.

    The engine returns equal fused scores (RRF of swapped ranks, exact BM25 ties) in an
    order that changes from call to call; ask it for the whole pool and cut here instead.
    """
    return sorted(points, key=lambda p: (-p.score, str(p.id)))[:top_k]


#: Typed forms of metadata values (core.filters): {key: number} and {key: UTC instant text}.
METADATA_NUMBER = "metadata_number"
METADATA_DATE = "metadata_date"
#: Points read per stored-vector lookup, per hash asked: the same paragraph can stand in
#: several documents, and any one of its points will do.
LOOKUP_FACTOR = 2


def lexical_text(event: DocumentEmbedded, chunk: EmbeddedChunk) -> str:
    """What BM25 indexes for a chunk: its title and heading count as its words."""
    return f"{event.title}\n{chunk.heading}\n{chunk.text}"


def chunk_payload(event: DocumentEmbedded, chunk: EmbeddedChunk) -> dict[str, Any]:
    """The payload of one chunk's point."""
    numbers, dates = typed_metadata(event.metadata)
    return {
        "tenant": event.tenant,
        "document_id": event.document_id,
        "version": event.version,
        "chunk_index": chunk.index,
        "text": chunk.text,
        "heading": chunk.heading,
        "start": chunk.start,
        "end": chunk.end,
        "page": chunk.page,
        "content_hash": chunk.content_hash,
        "title": event.title,
        "source": event.source,
        "metadata": event.metadata,
        # Kept apart from `metadata` so it reads back exactly as sent.
        METADATA_NUMBER: numbers,
        METADATA_DATE: dates,
        "access_groups": event.access_groups or [PUBLIC_GROUP],
    }


def filter_key(condition: TypedFilter) -> str:
    """The payload key a typed filter tests: ranges test the typed forms of metadata."""
    key = condition.metadata_key
    if condition.condition is Condition.NUMBER_RANGE:
        return f"{METADATA_NUMBER}.{key}"
    if condition.condition is Condition.DATE_RANGE:
        return f"{METADATA_DATE}.{key}"
    return condition.field  # "metadata.<key>" and the built-ins are payload keys as named


def facet_fields(metadata_keys: Iterable[str]) -> tuple[str, ...]:
    """The facetable fields (and payload keys, keyword-indexed): built-ins and these keys."""
    return (*BUILTIN_FIELDS, *(f"{METADATA_PREFIX}{key}" for key in metadata_keys))


def passage_hit(point_id: object, score: float, payload: dict[str, Any] | None) -> PassageHit:
    """A search result from a point's id, score and payload."""
    payload = payload or {}
    return PassageHit(
        chunk_id=str(point_id),
        document_id=payload.get("document_id", ""),
        chunk_index=int(payload.get("chunk_index", 0)),
        text=payload.get("text", ""),
        title=payload.get("title", ""),
        source=payload.get("source", ""),
        heading=payload.get("heading", ""),
        score=float(score),
        version=int(payload.get("version", 0)),
        metadata=dict(payload.get("metadata") or {}),
        page=payload.get("page"),
        start=int(payload.get("start", 0)),
        end=int(payload.get("end", 0)),
    )


def indexed(event: DocumentEmbedded, status: IndexStatus, count: int) -> DocumentIndexed:
    """The confirmation of one applied document message."""
    return DocumentIndexed(
        tenant=event.tenant,
        document_id=event.document_id,
        version=event.version,
        status=status,
        chunk_count=count,
        reused_chunks=event.reused_chunks if status is IndexStatus.INDEXED else 0,
    )
