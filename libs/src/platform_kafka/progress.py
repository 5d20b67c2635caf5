"""What each consumer is working on, so a stuck one is visible in logs and in health.

A subscriber handles one message at a time. Its `ConsumerProgress` knows the message
in flight (topic, partition, offset), since when, the attempts on it (a redelivered
message keeps its count) and the outage it waits out. Health reads `problem()`: a
consumer waiting out an outage, or one whose message has been unfinished for longer
than `stall_after_s`, reports NOT_SERVING with that reason.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from platform_kafka.failures import FailurePolicy
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Iterator

    from aiokafka import ConsumerRecord
    from faststream.kafka import KafkaBroker

_log = get_logger(__name__)
_STALL_LOG_EVERY_S = 30.0
#: A message handed back for redelivery that does not come back within this time went to
#: another consumer (a rebalance): it is no longer ours to report.
_HANDED_BACK_FOR_S = 30.0


@dataclass
class _InFlight:
    topic: str
    partition: int
    offset: int
    since: float
    attempts: int = 0
    last_error: str | None = None
    outage: str | None = None
    outage_since: float | None = None
    handed_back_at: float | None = None


class ConsumerProgress:
    """The in-flight message of one subscriber (one consumer group on one topic)."""

    def __init__(
        self, *, group_id: str, topic: str, policy: FailurePolicy, affects_readiness: bool
    ) -> None:
        self.group_id = group_id
        self.topic = topic
        self.policy = policy
        #: False for a consumer whose backlog must not take the service out of rotation.
        self.affects_readiness = affects_readiness
        self._current: _InFlight | None = None
        self._last_stall_log = 0.0

    @property
    def health_name(self) -> str:
        """The gRPC health service name that reports this consumer alone."""
        return f"consumer/{self.group_id}/{self.topic}"

    @contextlib.contextmanager
    def track(self, record: ConsumerRecord) -> Iterator[None]:
        """Mark `record` in flight; done when the block returns, kept when it raises.

        A block that raises leaves the message uncommitted and redelivered: its attempts
        and age go on from where they were.
        """
        current = self._current
        if current is None or (current.partition, current.offset) != (
            record.partition,
            record.offset,
        ):
            self._current = _InFlight(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                since=time.monotonic(),
            )
        else:
            current.handed_back_at = None
        try:
            yield
        except BaseException:
            if self._current is not None:
                self._current.handed_back_at = time.monotonic()
            raise
        self._current = None

    def attempt_started(self) -> int:
        """Count one more attempt on the message in flight; return its number."""
        if self._current is None:
            return 1
        self._current.attempts += 1
        return self._current.attempts

    def failed(self, reason: str) -> None:
        """The last attempt failed for `reason` (not an outage)."""
        if self._current is not None:
            self._current.last_error = reason

    def outage(self, dependency: str, reason: str) -> float:
        """The last attempt met an outage of `dependency`; return how long it has lasted."""
        current = self._current
        if current is None:
            return 0.0
        now = time.monotonic()
        if current.outage_since is None:
            current.outage_since = now
        current.outage = dependency
        current.last_error = reason
        return now - current.outage_since

    def outage_over(self) -> None:
        """An attempt got through: no outage any more."""
        if self._current is not None:
            self._current.outage = None
            self._current.outage_since = None

    def position(self) -> dict[str, Any]:
        """Where the consumer is, for logs."""
        current = self._current
        if current is None:
            return {"group_id": self.group_id, "topic": self.topic}
        return {
            "group_id": self.group_id,
            "topic": current.topic,
            "partition": current.partition,
            "offset": current.offset,
        }

    def status(self) -> dict[str, Any]:
        """The oldest unfinished message's age and attempts (empty when idle)."""
        current = self._current
        if current is None:
            return {}
        return {
            **self.position(),
            "age_s": round(time.monotonic() - current.since, 1),
            "attempts": current.attempts,
            "outage": current.outage,
            "last_error": current.last_error,
        }

    def problem(self) -> str | None:
        """Why this consumer is not healthy now, or None; logs a stall now and then."""
        current = self._current
        if current is None:
            return None
        if (
            current.handed_back_at is not None
            and time.monotonic() - current.handed_back_at > _HANDED_BACK_FOR_S
        ):
            self._current = None
            return None
        age_s = time.monotonic() - current.since
        where = f"{current.topic}[{current.partition}]@{current.offset}"
        if current.outage is not None:
            reason = (
                f"{self.group_id}: {current.outage} unavailable, {where} waiting "
                f"{age_s:.0f} s after {current.attempts} attempts"
            )
        elif age_s > self.policy.stall_after_s:
            reason = (
                f"{self.group_id}: no progress on {where} for {age_s:.0f} s "
                f"({current.attempts} attempts; last error: {current.last_error or 'none'})"
            )
        else:
            return None
        now = time.monotonic()
        if now - self._last_stall_log >= _STALL_LOG_EVERY_S:
            self._last_stall_log = now
            _log.warning("consumer_stalled", reason=reason, **self.status())
        return reason


@dataclass
class ConsumerSupervision:
    """The failure policy of one broker's consumers, and their progress."""

    policy: FailurePolicy
    consumers: list[ConsumerProgress] = field(default_factory=list)

    def register(
        self, *, group_id: str, topic: str, affects_readiness: bool = True
    ) -> ConsumerProgress:
        """A new subscriber's progress, visible to health."""
        progress = ConsumerProgress(
            group_id=group_id,
            topic=topic,
            policy=self.policy,
            affects_readiness=affects_readiness,
        )
        self.consumers.append(progress)
        return progress


# Keyed by broker so that the runner, which holds the broker, finds its consumers without
# every service wiring them through by hand; weak so a stopped broker takes them along.
_SUPERVISIONS: weakref.WeakKeyDictionary[KafkaBroker, ConsumerSupervision] = (
    weakref.WeakKeyDictionary()
)


def supervise(broker: KafkaBroker, policy: FailurePolicy) -> ConsumerSupervision:
    """Attach `policy` to `broker`'s consumers (done once, by `build_broker`)."""
    supervision = ConsumerSupervision(policy)
    _SUPERVISIONS[broker] = supervision
    return supervision


def supervision_of(broker: KafkaBroker) -> ConsumerSupervision:
    """The supervision of `broker`'s consumers (the default policy if none was attached)."""
    supervision = _SUPERVISIONS.get(broker)
    if supervision is None:
        supervision = supervise(broker, FailurePolicy())
    return supervision
