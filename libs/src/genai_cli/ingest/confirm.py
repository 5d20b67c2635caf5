"""Waiting for each sent document's fate: a confirmation on documents.indexed.v1 or a dead letter.

The consumer is assigned every partition at its end offset *before* anything is sent, and a
record counts only when its tenant, id and version match what was sent, so no confirmation
of an earlier ingest is mistaken for this one's.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from pydantic import ValidationError

from contracts import DocumentIndexed, topics
from genai_cli.errors import CliError
from genai_cli.ingest.files import Rejection
from genai_cli.kafka import (
    assign_at_end,
    check_topics,
    header_dict,
    make_consumer,
    poll_record,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from confluent_kafka import Message

__all__ = ("DEAD_LETTER_TOPICS", "Waiter", "dead_letter_identity")

#: Where a document sent by `genai ingest` can end up instead of the index.
DEAD_LETTER_TOPICS = (
    topics.DOCUMENTS_BACKFILL_DEAD_LETTER,
    topics.DOCUMENTS_SUBMITTED_DEAD_LETTER,
    topics.DOCUMENTS_CHUNKED_DEAD_LETTER,
    topics.DOCUMENTS_EMBEDDED_DEAD_LETTER,
)


class Waiter:
    """Reads confirmations and dead letters produced after `start()`."""

    def __init__(self, bootstrap: str, *, tenant: str) -> None:
        self._bootstrap = bootstrap
        self._tenant = tenant
        self._consumer = make_consumer(bootstrap, from_beginning=False)

    def start(self) -> None:
        """Remember where every topic ends now; call before sending."""
        wanted = (topics.DOCUMENTS_INDEXED, *DEAD_LETTER_TOPICS)
        present = check_topics(self._consumer, self._bootstrap, wanted)
        if topics.DOCUMENTS_INDEXED not in present:
            raise CliError(f"no topic {topics.DOCUMENTS_INDEXED} on {self._bootstrap}")
        # A dead-letter topic is created by the service that writes it; one that does not
        # exist yet holds nothing of ours.
        assign_at_end(self._consumer, [t for t in wanted if t in present])

    def wait(
        self,
        expected: dict[str, int],
        *,
        idle_timeout_s: float,
        on_settled: Callable[[], None],
    ) -> tuple[dict[str, DocumentIndexed], dict[str, Rejection]]:
        """Read until every id in `expected` (id -> version sent) is settled, or nothing has
        arrived for `idle_timeout_s`; returns the confirmations and the dead letters."""
        confirmed: dict[str, DocumentIndexed] = {}
        dead: dict[str, Rejection] = {}
        pending = dict(expected)
        last = time.monotonic()
        while pending and time.monotonic() - last < idle_timeout_s:
            message = poll_record(self._consumer)
            if message is None:
                continue
            settled = self._settle(message, pending, confirmed, dead)
            if settled:
                del pending[settled]
                last = time.monotonic()
                on_settled()
        return confirmed, dead

    def close(self) -> None:
        """Leave without committing anything."""
        self._consumer.close()

    def _settle(
        self,
        message: Message,
        pending: dict[str, int],
        confirmed: dict[str, DocumentIndexed],
        dead: dict[str, Rejection],
    ) -> str | None:
        """The id this record settles, if it is one of ours."""
        if message.topic() == topics.DOCUMENTS_INDEXED:
            try:
                event = DocumentIndexed.model_validate_json(message.value() or b"")
            except ValidationError:
                return None
            if event.tenant != self._tenant or pending.get(event.document_id) != event.version:
                return None
            confirmed[event.document_id] = event
            return event.document_id
        identity = dead_letter_identity(message.key(), message.value())
        if identity is None:
            return None
        tenant, document_id, version = identity
        prefix = f"{self._tenant}/"
        if tenant is None and document_id not in pending and document_id.startswith(prefix):
            document_id = document_id[len(prefix) :]  # an internal key, tenant/id
        if tenant not in (None, self._tenant) or document_id not in pending:
            return None
        if version is not None and version != pending[document_id]:
            return None
        headers = header_dict(message)
        dead[document_id] = Rejection(
            document_id,
            headers.get("x-error-type", "unknown"),
            headers.get("x-error-reason", "(no x-error-reason header)"),
            where=message.topic() or "",
        )
        return document_id


def dead_letter_identity(
    key: bytes | None, value: bytes | None
) -> tuple[str | None, str, int | None] | None:
    """(tenant, document id, version) of a dead letter, from its value when it is one of our
    payloads, else from its key (`id` on the submission topics, `tenant/id` after them)."""
    try:
        payload = json.loads(value or b"")
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        document_id = payload.get("id", payload.get("document_id"))
        tenant = payload.get("tenant")
        version = payload.get("version", 0)
        if isinstance(document_id, str) and isinstance(tenant, str):
            return tenant, document_id, version if isinstance(version, int) else None
    if key is None:
        return None
    text = key.decode("utf-8", "replace")
    return None, text, None
