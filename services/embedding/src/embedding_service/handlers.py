"""Kafka subscribers: documents.chunked.v1 -> documents.embedded.v1, in batches.

Documents arrive one message each, with a handful of chunks; embedding them one
document at a time would leave Triton's batches small. The subscriber takes up to
`max_documents` messages at once and embeds all their chunks in one call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiokafka.errors import MessageSizeTooLargeError
from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter

from contracts import DocumentChunked, DocumentEmbedded, EmbeddedChunk, topics
from embedding_service.core import content_hash, passage_text
from platform_grpc import DependencyUnavailable, InvalidArgument
from platform_kafka import (
    PoisonMessage,
    attempt_until_settled,
    decode_event,
    records_of,
    send_to_dead_letter,
    supervision_of,
    trace_id_of,
    undecoded,
)
from platform_logging import bind_request_context, get_logger
from platform_retry import idempotent_retry

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from aiokafka import ConsumerRecord
    from faststream.kafka import KafkaBroker

    from embedding_service.adapters import Encoder, StoredVectors

_log = get_logger(__name__)
#: Texts per encode call: about 2-3 s of engine time on two cores, far inside the timeout.
_TEXTS_PER_CALL = 256


def build_router(
    *,
    broker: KafkaBroker,
    encoder: Encoder,
    stored: StoredVectors,
    group_id: str,
    model_label: str,
    max_documents: int,
    batch_wait_ms: int,
) -> KafkaRouter:
    """Subscribers of the embedding service, closed over their dependencies."""
    router = KafkaRouter()
    supervision = supervision_of(broker)
    progress = supervision.register(group_id=group_id, topic=topics.DOCUMENTS_CHUNKED)

    async def settle(
        batch: list[tuple[ConsumerRecord, DocumentChunked]], *, max_attempts: int | None = None
    ) -> PoisonMessage | None:
        return await attempt_until_settled(
            lambda: _embed_and_publish(broker, encoder, stored, batch, model_label),
            policy=supervision.policy,
            progress=progress,
            outages={},
            max_attempts=max_attempts,
        )

    @router.subscriber(
        topics.DOCUMENTS_CHUNKED,
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_poll_interval_ms=supervision.policy.max_poll_interval_ms,
        decoder=undecoded,
        auto_offset_reset="earliest",
        batch=True,
        max_records=max_documents,
        batch_timeout_ms=batch_wait_ms,
    )
    async def on_documents_chunked(message: KafkaMessage) -> None:
        records = records_of(message)
        if not records:
            return
        with progress.track(records[0]):
            batch: list[tuple[ConsumerRecord, DocumentChunked]] = []
            for record in records:
                try:
                    batch.append((record, decode_event(record.value, DocumentChunked)))
                except PoisonMessage as error:
                    await _dead_letter(broker, record, error)
            # Outages are waited out on the whole batch. Any other failure splits it, so
            # only the documents that fail on their own are dead-lettered.
            if len(batch) > 1 and await settle(batch, max_attempts=1) is None:
                return
            for item in batch:
                if (failure := await settle([item])) is not None:
                    await _dead_letter(broker, item[0], failure)

    return router


async def _embed_and_publish(
    broker: KafkaBroker,
    encoder: Encoder,
    stored: StoredVectors,
    batch: list[tuple[ConsumerRecord, DocumentChunked]],
    model_label: str,
) -> None:
    """Embed a batch's documents in one go and publish each; a redo republishes the same."""
    try:
        embedded = await _embed(encoder, stored, [event for _, event in batch], model_label)
    except InvalidArgument as exc:
        raise PoisonMessage("engine_rejected_input", str(exc)) from exc
    for (record, event), result in zip(batch, embedded, strict=True):
        with bind_request_context(trace_id_of(record)):
            try:
                await broker.publish(result, topics.DOCUMENTS_EMBEDDED, key=result.key.encode())
            except MessageSizeTooLargeError as exc:
                # Retrying cannot shrink it: dead-letter the input, keep the partition moving.
                await _dead_letter(broker, record, PoisonMessage("event_too_large", str(exc)))
                continue
            _log.info(
                "document_embedded",
                tenant=event.tenant,
                document_id=event.document_id,
                version=event.version,
                chunks=len(result.chunks),
                reused=result.reused_chunks,
            )


async def _embed(
    encoder: Encoder,
    stored: StoredVectors,
    events: Sequence[DocumentChunked],
    model_label: str,
) -> list[DocumentEmbedded]:
    """Vectors for every chunk of every event: stored ones for unchanged texts, the engine's
    for the rest (in one go for the whole batch); events keep their order."""
    texts = [passage_text(e.title, chunk) for e in events for chunk in e.chunks]
    hashes = [content_hash(model_label, text) for text in texts]
    owners = [e.tenant for e in events for _ in e.chunks]
    known: dict[tuple[str, str], np.ndarray] = {}
    for tenant in dict.fromkeys(owners):
        wanted = [h for h, owner in zip(hashes, owners, strict=True) if owner == tenant]
        found = await stored.lookup(tenant, wanted)
        known.update(((tenant, h), v) for h, v in found.items())
    missing = [i for i, key in enumerate(zip(owners, hashes, strict=True)) if key not in known]
    fresh = await _encode(encoder, [texts[i] for i in missing])
    vectors: list[np.ndarray | None] = [known.get(key) for key in zip(owners, hashes, strict=True)]
    for i, vector in zip(missing, fresh, strict=True):
        vectors[i] = vector
    results = []
    cursor = 0
    for event in events:
        end = cursor + len(event.chunks)
        results.append(
            DocumentEmbedded(
                **event.model_dump(exclude={"chunks"}),
                model=model_label,
                chunks=[
                    EmbeddedChunk.from_chunk(c, v, content_hash=h)
                    for c, v, h in zip(
                        event.chunks, vectors[cursor:end], hashes[cursor:end], strict=True
                    )
                ],
                reused_chunks=sum(
                    1
                    for key in zip(owners[cursor:end], hashes[cursor:end], strict=True)
                    if key in known
                ),
            )
        )
        cursor = end
    return results


async def _encode(encoder: Encoder, texts: list[str]) -> list[np.ndarray]:
    """The engine's vectors of `texts`, in slices."""
    vectors: list[np.ndarray] = []
    # Slices bound the work behind one deadline: a batch of large documents can hold
    # thousands of chunks, which sent at once would all wait in Triton's queue and time out.
    for start in range(0, len(texts), _TEXTS_PER_CALL):
        texts_slice = texts[start : start + _TEXTS_PER_CALL]
        # Embedding is a pure function of the text: safe to retry.
        async for attempt in idempotent_retry(DependencyUnavailable, attempts=6, max_delay_s=30):
            with attempt:
                embedded = await encoder.encode(texts_slice)
        vectors.extend(embedded)
    return vectors


async def _dead_letter(broker: KafkaBroker, record: ConsumerRecord, error: PoisonMessage) -> None:
    with bind_request_context(trace_id_of(record)):
        await send_to_dead_letter(
            broker, record, topic=topics.DOCUMENTS_CHUNKED_DEAD_LETTER, error=error
        )
