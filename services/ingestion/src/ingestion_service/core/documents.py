"""From a submitted document to the event the embedding service consumes."""

from __future__ import annotations

from contracts import DocumentChunked, DocumentSubmitted, Operation
from contracts.events import utc_now
from ingestion_service.core.chunking import ChunkingPolicy, chunk_blocks
from ingestion_service.core.parsing import parse


def to_chunked_event(doc: DocumentSubmitted, policy: ChunkingPolicy) -> DocumentChunked:
    """Parse and chunk an upsert; a delete carries no chunks."""
    chunks = (
        chunk_blocks(parse(doc.text, doc.media_type), policy)
        if doc.operation is Operation.UPSERT
        else []
    )
    return DocumentChunked(
        tenant=doc.tenant,
        document_id=doc.id,
        operation=doc.operation,
        version=doc.version,
        title=doc.title,
        source=doc.source,
        metadata=doc.metadata,
        access_groups=doc.access_groups,
        submitted_at=utc_now(),
        chunks=chunks,
    )
