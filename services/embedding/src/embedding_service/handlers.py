"""Kafka subscribers: documents.chunked.v1 -> documents.embedded.v1."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts import DocumentChunked, DocumentEmbedded, EmbeddedChunk, topics
from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter
from platform_grpc import DependencyUnavailable, InvalidArgument
from platform_kafka import PoisonMessage, decode_event, send_to_dead_letter
from platform_logging import get_logger
from platform_retry import idempotent_retry

from embedding_service.core import passage_text

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker

    from embedding_service.adapters import Encoder

_log = get_logger(__name__)


def build_router(
    *, broker: KafkaBroker, encoder: Encoder, group_id: str, model_label: str
) -> KafkaRouter:
    """Subscribers of the embedding service, closed over their dependencies."""
    router = KafkaRouter()

    @router.subscriber(
        topics.DOCUMENTS_CHUNKED,
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
    )
    async def on_document_chunked(message: KafkaMessage) -> None:
        try:
            event = decode_event(message.body, DocumentChunked)
            embedded = await _embed(event, encoder, model_label)
        except PoisonMessage as error:
            await send_to_dead_letter(
                broker, message, topic=topics.DOCUMENTS_CHUNKED_DEAD_LETTER, error=error
            )
            return
        # DependencyUnavailable escapes after the retries: the message is nacked,
        # the partition rewinds to it, and it is retried while health says NOT_SERVING.
        await broker.publish(embedded, topics.DOCUMENTS_EMBEDDED, key=embedded.key.encode())
        _log.info(
            "document_embedded",
            tenant=event.tenant,
            document_id=event.document_id,
            version=event.version,
            chunks=len(embedded.chunks),
        )

    return router


async def _embed(event: DocumentChunked, encoder: Encoder, model_label: str) -> DocumentEmbedded:
    fields = event.model_dump(exclude={"chunks"})
    if not event.chunks:
        return DocumentEmbedded(**fields, model=model_label, chunks=[])
    texts = [passage_text(event.title, chunk) for chunk in event.chunks]
    try:
        # Embedding is a pure function of the text: safe to retry.
        async for attempt in idempotent_retry(DependencyUnavailable, attempts=6, max_delay_s=30):
            with attempt:
                vectors = await encoder.encode(texts)
    except InvalidArgument as exc:
        raise PoisonMessage("engine_rejected_input", str(exc)) from exc
    chunks = [EmbeddedChunk.from_chunk(c, v) for c, v in zip(event.chunks, vectors, strict=True)]
    return DocumentEmbedded(**fields, model=model_label, chunks=chunks)
