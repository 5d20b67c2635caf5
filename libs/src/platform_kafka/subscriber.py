"""Typed event subscribers with the at-least-once rules built in.

Every consumer of one event per message has the same shape: decode the body into
its model, handle the event, and settle every failure by its class (`failures`):
poison and exhausted messages go to the dead-letter topic and the partition moves
on; an outage is retried with backoff while health says NOT_SERVING. Offsets are
committed only once a message is handled or dead-lettered. This is that shape,
written once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from faststream import AckPolicy
from faststream.kafka import KafkaMessage
from pydantic import BaseModel

from platform_kafka.dead_letter import decode_event, send_to_dead_letter
from platform_kafka.failures import attempt_until_settled
from platform_kafka.progress import supervision_of
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from typing import Literal

    from faststream.kafka import KafkaBroker, KafkaRouter
    from faststream.message import StreamMessage

_log = get_logger(__name__)
EventT = TypeVar("EventT", bound=BaseModel)


async def undecoded(message: StreamMessage[Any]) -> Any:
    """A faststream decoder that leaves the body as bytes.

    faststream's own decoder parses JSON before the handler runs and lets anything but
    JSONDecodeError escape (RecursionError on deep nesting, ValueError on huge numbers,
    any error at all when the producer says `content-type: application/json`). Raised
    there, outside our handler, it would rewind the partition forever. We decode in
    `decode_event`, where every failure is classed.
    """
    return message.body


def event_subscriber(
    router: KafkaRouter,
    topic: str,
    *,
    model: type[EventT],
    broker: KafkaBroker,
    group_id: str,
    dead_letter_topic: str | None,
    outages: Mapping[type[BaseException], str] | None = None,
    affects_readiness: bool = True,
    auto_offset_reset: Literal["earliest", "latest"] = "earliest",
) -> Callable[[Callable[[EventT], Awaitable[None]]], Callable[[EventT], Awaitable[None]]]:
    """Register `handle(event)` for `topic`; offsets are committed only after it settles.

    `outages` names the exception types of the handler's own dependencies that mean
    "down, retry later" (DependencyUnavailable, retriable Kafka errors and
    ConnectionError are known already). Without a `dead_letter_topic`, a message that
    can never succeed is logged and skipped (for our own informational topics).
    """
    supervision = supervision_of(broker)
    known_outages = dict(outages or {})

    def register(
        handle: Callable[[EventT], Awaitable[None]],
    ) -> Callable[[EventT], Awaitable[None]]:
        progress = supervision.register(
            group_id=group_id, topic=topic, affects_readiness=affects_readiness
        )

        @router.subscriber(
            topic,
            group_id=group_id,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            max_poll_interval_ms=supervision.policy.max_poll_interval_ms,
            decoder=undecoded,
            auto_offset_reset=auto_offset_reset,
            title=f"{topic}:{handle.__name__}",
        )
        async def on_message(message: KafkaMessage) -> None:
            async def decode_and_handle() -> None:
                await handle(decode_event(message.body, model))

            with progress.track(message.raw_message):
                failure = await attempt_until_settled(
                    decode_and_handle,
                    policy=supervision.policy,
                    progress=progress,
                    outages=known_outages,
                )
                if failure is None:
                    return
                if dead_letter_topic is None:
                    _log.error(
                        "message_skipped",
                        error_type=failure.error_type,
                        reason=failure.reason[:300],
                        **progress.position(),
                    )
                    return
                await send_to_dead_letter(broker, message, topic=dead_letter_topic, error=failure)

        return handle

    return register
