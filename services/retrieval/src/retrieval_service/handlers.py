"""Kafka subscribers: documents.embedded.v1 -> the index -> documents.indexed.v1."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from faststream.kafka import KafkaRouter
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from qdrant_client.http.exceptions import ResponseHandlingException

from contracts import DocumentEmbedded, Operation, topics
from contracts.events import document_key
from platform_kafka import PoisonMessage, event_subscriber
from platform_logging import get_logger

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

    from retrieval_service.adapters import ChunkIndex

_log = get_logger(__name__)
#: What the index's clients raise when their server is down: retried, never dead-lettered.
_INDEX_OUTAGES = {
    ResponseHandlingException: "qdrant",
    httpx.TransportError: "qdrant",
    OpenSearchConnectionError: "opensearch",
}


def build_router(*, broker: KafkaBroker, index: ChunkIndex, group_id: str) -> KafkaRouter:
    """Subscribers of the retrieval service, closed over their dependencies."""
    router = KafkaRouter()

    @event_subscriber(
        router,
        topics.DOCUMENTS_EMBEDDED,
        model=DocumentEmbedded,
        broker=broker,
        group_id=group_id,
        dead_letter_topic=topics.DOCUMENTS_EMBEDDED_DEAD_LETTER,
        outages=_INDEX_OUTAGES,
    )
    async def on_document_embedded(event: DocumentEmbedded) -> None:
        if event.operation is Operation.UPSERT and not event.chunks:
            # Ingestion dead-letters these; one from elsewhere would delete the document.
            raise PoisonMessage("no_content", "an upsert with no chunks: send a delete instead")
        # Idempotent: deterministic point ids and a version check, so a redelivery
        # after a crash between this write and the commit changes nothing.
        indexed = await index.apply(event)
        await broker.publish(
            indexed,
            topics.DOCUMENTS_INDEXED,
            key=document_key(indexed.tenant, indexed.document_id).encode(),
        )
        _log.info(
            "document_indexed",
            tenant=indexed.tenant,
            document_id=indexed.document_id,
            version=indexed.version,
            status=indexed.status.value,
            chunks=indexed.chunk_count,
        )

    return router
