"""Poison messages: decoded by us, not by the framework, so one bad message never
blocks a partition. It goes, unchanged, to a dead-letter topic with the reason in
its headers, and the consumer moves on."""

from __future__ import annotations

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
    "x-error-exception",
    "x-error-attempts",
)
_MAX_REASON_CHARS = 2000
_MAX_KEY_CHARS = 1000
_MAX_VIOLATIONS = 20


class PoisonMessage(Exception):
    """A message that can never be processed, whatever the retries."""

    def __init__(
        self,
        error_type: str,
        reason: str,
        *,
        exception: BaseException | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(f"{error_type}: {reason}")
        self.error_type = error_type
        self.reason = reason
        #: The exception behind it, if one was raised (named in `x-error-exception`).
        self.exception = exception
        self.attempts = attempts


def decode_event(body: bytes | None, model: type[ModelT]) -> ModelT:
    """Parse a JSON message body into `model`, or raise `PoisonMessage` saying why.

    Strict, as the published schema says: no coercion ("3" is not 3, true is not 1), and
    the parser's own limits (nesting depth, number size) answer as invalid JSON instead
    of raising whatever the parser raises.
    """
    if not body:
        raise PoisonMessage(
            "invalid_json",
            'empty message (a tombstone?): to delete a document send {"operation": "delete", ...}',
        )
    try:
        return model.model_validate_json(body, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if errors and errors[0]["type"] == "json_invalid":
            raise PoisonMessage("invalid_json", errors[0]["msg"], exception=exc) from exc
        if errors and errors[0]["type"] == "model_type" and not errors[0]["loc"]:
            raise PoisonMessage("invalid_json", "expected a JSON object", exception=exc) from exc
        raise PoisonMessage("schema_violation", _describe(exc), exception=exc) from exc
    except Exception as exc:
        raise PoisonMessage(
            "invalid_json", f"{type(exc).__name__}: {exc}"[:500], exception=exc
        ) from exc


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
            "x-original-key": (raw.key or b"").decode("utf-8", "replace")[:_MAX_KEY_CHARS],
            "x-error-attempts": str(error.attempts),
        }
    )
    if error.exception is not None:
        headers["x-error-exception"] = _exception_text(error.exception)
    if trace_id := current_trace_id():
        headers.setdefault(TRACE_HEADER, trace_id)
    await broker.publish(value or b"", topic, key=raw.key, headers=headers)
    _log.warning(
        "message_dead_lettered",
        error_type=error.error_type,
        reason=error.reason[:300],
        attempts=error.attempts,
        dead_letter_topic=topic,
        original_topic=str(raw.topic),
        partition=raw.partition,
        offset=raw.offset,
    )


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


def _exception_text(exc: BaseException) -> str:
    text = f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"
    return text[:_MAX_REASON_CHARS]


def _describe(exc: ValidationError) -> str:
    """One readable line per field error, e.g. `version: Input should be a valid integer`."""
    parts = []
    for err in exc.errors(include_url=False)[:_MAX_VIOLATIONS]:
        # Locations can hold caller input (a metadata key): quote only its start.
        where = ".".join(_short(str(p)) for p in err["loc"]) or "(document)"
        parts.append(f"{where}: {err['msg']}")
    if exc.error_count() > _MAX_VIOLATIONS:
        parts.append(f"and {exc.error_count() - _MAX_VIOLATIONS} more")
    return "; ".join(parts)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"
