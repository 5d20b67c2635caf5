"""From a submitted document to the event the embedding service consumes."""

from __future__ import annotations

import re

from contracts import Chunk, DocumentChunked, DocumentSubmitted, Operation
from contracts.events import utc_now
from ingestion_service.core.chunking import Chunker
from ingestion_service.core.parsing import parse

#: A chunk worth indexing holds at least one letter or digit, in any script.
_INDEXABLE = re.compile(r"[^\W_]")


class NoContent(ValueError):
    """An upsert whose body yields no indexable text (markup only, control characters)."""


def to_chunked_event(doc: DocumentSubmitted, chunker: Chunker) -> DocumentChunked:
    """Parse and chunk an upsert; a delete carries no chunks.

    Raises `NoContent` for an upsert with nothing to index: an empty upsert would only
    delete the document's chunks downstream, which is what a delete is for; and a
    `parsing.DocumentRejected` for a body that cannot be read (corrupt, encrypted, too large).
    """
    chunks: list[Chunk] = []
    if doc.operation is Operation.UPSERT:
        body = doc.body()
        blocks = [b for b in parse(body, doc.media_type) if _INDEXABLE.search(b.text)]
        chunks = chunker(blocks, title=doc.title)
        if not chunks:
            raise NoContent(
                f"no indexable text in the {doc.media_type.value} body "
                f"({len(body):,} {'bytes' if isinstance(body, bytes) else 'characters'}: "
                "markup, whitespace or control characters only)"
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
