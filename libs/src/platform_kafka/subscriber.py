"""Typed event subscribers with the at-least-once rules built in.

Every consumer of one event per message has the same shape: decode the body into
its model, send a poison message to the dead-letter topic and move on, handle the
event, and let an unexpected failure rewind the partition (NACK_ON_ERROR) instead
of committing past the message. This is that shape, written once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from faststream import AckPolicy
from faststream.kafka import KafkaMessage
from pydantic import BaseModel

from platform_kafka.dead_letter import PoisonMessage, decode_event, send_to_dead_letter
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import Literal

    from faststream.kafka import KafkaBroker, KafkaRouter

_log = get_logger(__name__)
EventT = TypeVar("EventT", bound=BaseModel)


def event_subscriber(
    router: KafkaRouter,
    topic: str,
    *,
    model: type[EventT],
    broker: KafkaBroker,
    group_id: str,
    dead_letter_topic: str | None,
    auto_offset_reset: Literal["earliest", "latest"] = "earliest",
) -> Callable[[Callable[[EventT], Awaitable[None]]], Callable[[EventT], Awaitable[None]]]:
    """Register `handle(event)` for `topic`; offsets are committed only after it returns.

    Without a `dead_letter_topic`, a poison message is logged and skipped (for our own
    informational topics, where blocking the partition would help nobody).
    """

    def register(
        handle: Callable[[EventT], Awaitable[None]],
    ) -> Callable[[EventT], Awaitable[None]]:
        @router.subscriber(
            topic,
            group_id=group_id,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset=auto_offset_reset,
            title=f"{topic}:{handle.__name__}",
        )
        async def on_message(message: KafkaMessage) -> None:
            try:
                event = decode_event(message.body, model)
            except PoisonMessage as error:
                if dead_letter_topic is None:
                    _log.error("message_skipped", error_type=error.error_type, reason=error.reason)
                    return
                await send_to_dead_letter(broker, message, topic=dead_letter_topic, error=error)
                return
            await handle(event)

        return handle

    return register
