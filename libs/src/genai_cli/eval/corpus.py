"""A BEIR corpus through the real pipeline: one document per corpus entry, sent to the
backfill topic and confirmed on documents.indexed.v1 (or its dead letter), as `genai ingest`."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tqdm import tqdm

from contracts import DocumentSubmitted, MediaType, topics
from genai_cli.errors import CliError
from genai_cli.ingest.confirm import Waiter
from genai_cli.ingest.files import document_id_for
from genai_cli.kafka import MAX_MESSAGE_BYTES, check_topics, make_producer

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from confluent_kafka import KafkaError, Message

__all__ = ("CorpusDocument", "IngestOutcome", "corpus_documents", "push_corpus")

#: BEIR ids such as `library/os.html#os.path` may hold characters a document id may not.
_SOURCE_PREFIX = "beir:"


@dataclass(frozen=True)
class CorpusDocument:
    """One corpus entry as the platform sees it: its document id and its payload."""

    corpus_id: str
    document_id: str
    value: bytes


@dataclass
class IngestOutcome:
    """What the pipeline did with the corpus."""

    sent: int = 0
    confirmed: int = 0
    reused_chunks: int = 0
    chunks: int = 0
    rejected: dict[str, str] = field(default_factory=dict)  # corpus id -> reason
    elapsed_s: float = 0.0


def corpus_documents(
    corpus: Mapping[str, tuple[str, str]], *, tenant: str, version: int
) -> tuple[list[CorpusDocument], dict[str, str]]:
    """Payloads of `corpus` (id -> (title, text)), and the ids refused here with the reason.

    Text goes as text/plain with its title; the document id is the corpus id made to fit
    the id pattern (`genai ingest`'s rule: other characters become `_`, plus a hash).
    """
    documents: list[CorpusDocument] = []
    refused: dict[str, str] = {}
    taken: dict[str, str] = {}
    for corpus_id, (title, text) in corpus.items():
        document_id = document_id_for(corpus_id)
        if document_id in taken:
            refused[corpus_id] = f"id {document_id} is also {taken[document_id]}'s"
            continue
        if not text.strip():
            refused[corpus_id] = "no text"
            continue
        payload = {
            "tenant": tenant,
            "id": document_id,
            "operation": "upsert",
            "version": version,
            "title": title[:1000],
            "source": f"{_SOURCE_PREFIX}{corpus_id}"[:2000],
            "media_type": MediaType.PLAIN.value,
            "text": text,
        }
        try:
            DocumentSubmitted.model_validate(payload)
        except ValueError as error:
            refused[corpus_id] = str(error).splitlines()[0]
            continue
        value = json.dumps(payload, ensure_ascii=False).encode()
        if len(value) > MAX_MESSAGE_BYTES:
            refused[corpus_id] = f"a {len(value):,}-byte message"
            continue
        taken[document_id] = corpus_id
        documents.append(CorpusDocument(corpus_id, document_id, value))
    return documents, refused


def push_corpus(
    documents: Iterable[CorpusDocument],
    *,
    bootstrap: str,
    tenant: str,
    version: int,
    idle_timeout_s: float,
) -> IngestOutcome:
    """Send every document to the backfill topic and wait until each one is settled."""
    documents = list(documents)
    producer = make_producer(bootstrap)
    topic = topics.DOCUMENTS_BACKFILL
    if not check_topics(producer, bootstrap, [topic]):
        raise CliError(f"no topic {topic} on {bootstrap}: is the stack up?")
    outcome = IngestOutcome()
    waiter = Waiter(bootstrap, tenant=tenant)
    failed: dict[str, str] = {}
    started = time.monotonic()
    try:
        waiter.start()  # before the first send: only this run's confirmations count

        def delivered(err: KafkaError | None, message: Message) -> None:
            if err is not None:
                failed[(message.key() or b"").decode()] = err.str()

        for document in tqdm(documents, desc="sent", unit="doc", file=sys.stderr, disable=None):
            producer.produce(
                topic, document.value, document.document_id.encode(), on_delivery=delivered
            )
            producer.poll(0)
        if producer.flush(120) > 0:
            raise CliError("the broker did not acknowledge every document within 120 s")
        by_id = {d.document_id: d.corpus_id for d in documents}
        outcome.rejected.update({by_id[d]: f"not sent: {r}" for d, r in failed.items()})
        expected = {d.document_id: version for d in documents if d.document_id not in failed}
        outcome.sent = len(expected)
        with tqdm(
            total=len(expected), desc="indexed", unit="doc", file=sys.stderr, disable=None
        ) as bar:
            confirmed, dead = waiter.wait(
                expected, idle_timeout_s=idle_timeout_s, on_settled=lambda: bar.update(1)
            )
    finally:
        waiter.close()
    outcome.confirmed = len(confirmed)
    outcome.chunks = sum(c.chunk_count for c in confirmed.values())
    outcome.reused_chunks = sum(c.reused_chunks for c in confirmed.values())
    outcome.rejected.update(
        {by_id[d]: f"{r.error_type}: {r.reason} ({r.where})" for d, r in dead.items()}
    )
    for document_id in expected.keys() - confirmed.keys() - dead.keys():
        outcome.rejected[by_id[document_id]] = f"no confirmation within {idle_timeout_s:.0f} s"
    outcome.elapsed_s = time.monotonic() - started
    return outcome
