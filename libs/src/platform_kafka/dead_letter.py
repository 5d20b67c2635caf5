"""Poison messages: decoded by us, not by the framework, so one bad message never
blocks a partition. It goes, unchanged, to a dead-letter topic with the reason in
its headers, and the consumer moves on."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from platform_logging import TRACE_HEADER, current_trace_id, get_logger

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord
    from faststream.kafka import KafkaBroker, KafkaMessage

_log = get_logger(__name__)
ModelT = TypeVar("ModelT", bound=BaseModel)

#: Headers set on every dead-lettered message; documented in docs/TOPICS.md.
DEAD_LETTER_HEADERS = (
    "x-error-type",
    "x-error-reason",
    "x-original-topic",
    "x-original-partition",
    "x-original-offset",
    "x-original-key",
)
_MAX_REASON_CHARS = 2000


class PoisonMessage(Exception):
    """A message that can never be processed, whatever the retries."""

    def __init__(self, error_type: str, reason: str) -> None:
        super().__init__(f"{error_type}: {reason}")
        self.error_type = error_type
        self.reason = reason


def decode_event(body: bytes, model: type[ModelT]) -> ModelT:
    """Parse a JSON message body into `model`, or raise `PoisonMessage` saying why."""
    if not body:
        raise PoisonMessage(
            "invalid_json",
            'empty message (a tombstone?): to delete a document send {"operation": "delete", ...}',
        )
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoisonMessage("invalid_json", str(exc)) from exc
    if not isinstance(data, dict):
        raise PoisonMessage("invalid_json", f"expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PoisonMessage("schema_violation", _describe(exc)) from exc


async def send_to_dead_letter(
    broker: KafkaBroker,
    message: KafkaMessage | ConsumerRecord,
    *,
    topic: str,
    error: PoisonMessage,
) -> None:
    """Publish the original bytes, key and headers to `topic` with the reason added.

    Takes a faststream message or, from a batch, one aiokafka record.
    """
    raw = getattr(message, "raw_message", message)
    value = raw.value
    headers = {
        k: v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
        for k, v in (getattr(raw, "headers", None) or ())
    }
    headers.update(
        {
            "x-error-type": error.error_type,
            "x-error-reason": error.reason[:_MAX_REASON_CHARS],
            "x-original-topic": str(raw.topic),
            "x-original-partition": str(raw.partition),
            "x-original-offset": str(raw.offset),
            "x-original-key": (raw.key or b"").decode("utf-8", "replace"),
        }
    )
    if trace_id := current_trace_id():
        headers.setdefault(TRACE_HEADER, trace_id)
    await broker.publish(value or b"", topic, key=raw.key, headers=headers)
    _log.warning("message_dead_lettered", error_type=error.error_type, reason=error.reason[:300])


def records_of(message: KafkaMessage) -> tuple[ConsumerRecord, ...]:
    """The aiokafka records behind a message: one, or all of a batch."""
    raw = message.raw_message
    return raw if isinstance(raw, tuple) else (raw,)


def trace_id_of(record: ConsumerRecord) -> str | None:
    """The trace id header of one record, if it has one."""
    for key, value in record.headers or ():
        if key == TRACE_HEADER:
            return value.decode("utf-8", "replace")
    return None


def _describe(exc: ValidationError) -> str:
    """One readable line per field error, e.g. `version: Input should be a valid integer`."""
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(document)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
