"""What a consumer does with a message that fails: every failure has a class.

    poison   PoisonMessage (undecodable, off-contract, no content, refused by an engine):
             it can never succeed, so it is dead-lettered at once.
    outage   a dependency is down (Kafka, Triton, Redis, a peer): the message is fine, so it
             is retried with backoff while health says NOT_SERVING, and dead-lettered as
             `dependency_unavailable` (replayable) only after `outage_give_up_s`.
    error    anything else a handler raises: retried `max_attempts` times, then
             dead-lettered as `handler_error` with the exception, and the partition moves on.

No class is retried forever, so no message can stop the messages behind it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiokafka.errors import KafkaError

from platform_grpc.errors import DependencyUnavailable
from platform_kafka.dead_letter import PoisonMessage
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from platform_kafka.progress import ConsumerProgress
    from platform_settings import KafkaSettings

_log = get_logger(__name__)
_MAX_EXCEPTION_CHARS = 500


@dataclass(frozen=True)
class FailurePolicy:
    """Bounds on retries; from `KafkaSettings` (KAFKA_CONSUMER_*)."""

    max_attempts: int = 3
    handler_timeout_s: float = 120.0
    outage_give_up_s: float = 3600.0
    stall_after_s: float = 120.0
    #: An outage retried longer than this within one delivery hands the message back to
    #: the consumer (a rewind), so it keeps polling and keeps its place in the group.
    redeliver_after_s: float = 60.0
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 15.0

    @classmethod
    def from_settings(cls, settings: KafkaSettings) -> FailurePolicy:
        """The policy the deployment configured."""
        return cls(
            max_attempts=settings.consumer_max_attempts,
            handler_timeout_s=settings.consumer_handler_timeout_s,
            outage_give_up_s=settings.consumer_outage_give_up_s,
            stall_after_s=settings.consumer_stall_after_s,
        )

    @property
    def max_poll_interval_ms(self) -> int:
        """How long a consumer may spend on one message before the group drops it.

        Longer than the worst case of the policy (every attempt timing out), so a
        message being retried never costs the consumer its partitions.
        """
        worst_s = self.max_attempts * (self.handler_timeout_s + self.backoff_max_s)
        return int((max(worst_s, self.redeliver_after_s) + 60) * 1000)

    def backoff_s(self, attempt: int) -> float:
        """Exponential backoff before attempt `attempt + 1`."""
        return min(self.backoff_max_s, self.backoff_initial_s * 2 ** max(0, attempt - 1))


class RedeliveryNeeded(Exception):
    """Raised out of a handler so the consumer rewinds and delivers the message again."""


def describe_exception(exc: BaseException) -> str:
    """`Type: message`, bounded, for dead-letter headers and logs."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _MAX_EXCEPTION_CHARS else text[:_MAX_EXCEPTION_CHARS] + "…"


def dependency_of(exc: BaseException, outages: Mapping[type[BaseException], str]) -> str | None:
    """The dependency whose outage `exc` reports, or None when it is no outage."""
    for kind, name in outages.items():
        if isinstance(exc, kind):
            return name
    if isinstance(exc, DependencyUnavailable):
        return str(exc).split(":", 1)[0][:80] or "dependency"
    if isinstance(exc, KafkaError) and exc.retriable:
        return "kafka"
    if isinstance(exc, ConnectionError):
        return "connection"
    return None


async def attempt_until_settled(
    work: Callable[[], Awaitable[None]],
    *,
    policy: FailurePolicy,
    progress: ConsumerProgress,
    outages: Mapping[type[BaseException], str],
    max_attempts: int | None = None,
) -> PoisonMessage | None:
    """Run `work` until it succeeds (None) or can never succeed (the reason to dead-letter).

    Failures other than outages get `max_attempts` tries in this call. Outages are
    retried with backoff; past `redeliver_after_s` in one delivery this raises
    `RedeliveryNeeded`, and the outage's clock and the attempts go on counting on the
    redelivered message.
    """
    limit = max_attempts or policy.max_attempts
    delivered_at = time.monotonic()
    failed_here = 0
    while True:
        attempt = progress.attempt_started()
        timeout = asyncio.timeout(policy.handler_timeout_s)
        try:
            async with timeout:
                await work()
        except PoisonMessage as poison:
            poison.attempts = attempt
            return poison
        except Exception as exc:  # noqa: BLE001 - every failure is classed below
            error: Exception = exc
        else:
            progress.outage_over()
            return None
        if timeout.expired():
            failure = PoisonMessage(
                "handler_timeout",
                f"an attempt took longer than {policy.handler_timeout_s:g} s",
                exception=error,
                attempts=attempt,
            )
            dependency = None
        else:
            failure = PoisonMessage(
                "handler_error", describe_exception(error), exception=error, attempts=attempt
            )
            dependency = dependency_of(error, outages)
        if dependency is not None:
            outage_s = progress.outage(dependency, failure.reason)
            if outage_s >= policy.outage_give_up_s:
                return PoisonMessage(
                    "dependency_unavailable",
                    f"{dependency} unavailable for {outage_s:.0f} s: {failure.reason}",
                    exception=error,
                    attempts=attempt,
                )
            _log.warning(
                "consumer_dependency_unavailable",
                dependency=dependency,
                attempts=attempt,
                outage_s=round(outage_s, 1),
                error=failure.reason,
                **progress.position(),
            )
        else:
            progress.outage_over()
            progress.failed(failure.reason)
            failed_here += 1
            if failed_here >= limit:
                return failure
            _log.warning(
                "consumer_attempt_failed",
                attempts=attempt,
                max_attempts=limit,
                error=failure.reason,
                **progress.position(),
            )
        delay = policy.backoff_s(attempt)
        if dependency is not None and (
            time.monotonic() - delivered_at + delay > policy.redeliver_after_s
        ):
            raise RedeliveryNeeded(failure.reason)
        await asyncio.sleep(delay)
