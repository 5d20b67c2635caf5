"""gRPC Ingestion: documents submitted by call join the Kafka path unchanged."""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

from contracts import DocumentSubmitted, Operation, topics
from contracts.rpc import ingestion_pb2, ingestion_pb2_grpc
from ingestion_service.core import Chunker, NoContent, to_chunked_event
from ingestion_service.core.parsing import DocumentRejected
from platform_grpc import PRINCIPAL_FIELDS, InvalidArgument, validated

if TYPE_CHECKING:
    import grpc
    from faststream.kafka import KafkaBroker


class IngestionServicer(ingestion_pb2_grpc.IngestionServicer):
    """Validates a document and writes it to documents.submitted.v1."""

    def __init__(self, *, broker: KafkaBroker, chunker: Chunker) -> None:
        self._broker = broker
        self._chunker = chunker

    async def SubmitDocument(  # noqa: N802 - generated name
        self, request: ingestion_pb2.SubmitDocumentRequest, context: grpc.aio.ServicerContext
    ) -> ingestion_pb2.SubmitDocumentResponse:
        """Accept an upsert."""
        doc = request.document
        data: dict[str, Any] = {
            "tenant": request.principal.tenant,
            "id": doc.id,
            "operation": Operation.UPSERT,
            "version": doc.version,
            "title": doc.title,
            "source": doc.source,
            "text": doc.text,
            # Bytes travel as base64 on the topic, exactly as an outside producer sends them.
            "content": base64.b64encode(doc.content).decode("ascii"),
            "metadata": dict(doc.metadata),
            "access_groups": list(doc.access_groups),
        }
        if doc.media_type:
            data["media_type"] = doc.media_type
        document = validated(
            DocumentSubmitted, data, field_prefix="document.", request_fields=PRINCIPAL_FIELDS
        )
        # The same check the consumer makes, so a caller hears now what would otherwise
        # only reach the dead-letter topic.
        try:
            await asyncio.to_thread(to_chunked_event, document, self._chunker)
        except (NoContent, DocumentRejected) as exc:
            field = "document.content" if document.content else "document.text"
            raise InvalidArgument.field(field, str(exc)) from exc
        return await self._submit(document)

    async def DeleteDocument(  # noqa: N802 - generated name
        self, request: ingestion_pb2.DeleteDocumentRequest, context: grpc.aio.ServicerContext
    ) -> ingestion_pb2.SubmitDocumentResponse:
        """Accept a delete."""
        data = {
            "tenant": request.principal.tenant,
            "id": request.document_id,
            "operation": Operation.DELETE,
            "version": request.version,
        }
        return await self._submit(
            validated(
                DocumentSubmitted,
                data,
                request_fields={**PRINCIPAL_FIELDS, "id": "document_id"},
            )
        )

    async def _submit(self, document: DocumentSubmitted) -> ingestion_pb2.SubmitDocumentResponse:
        record = await self._broker.publish(
            document.model_dump_json().encode(),
            topics.DOCUMENTS_SUBMITTED,
            key=document.id.encode(),
            headers={"content-type": "application/json"},
        )
        return ingestion_pb2.SubmitDocumentResponse(
            document_id=document.id,
            topic=topics.DOCUMENTS_SUBMITTED,
            partition=getattr(record, "partition", -1),
            offset=getattr(record, "offset", -1),
        )
