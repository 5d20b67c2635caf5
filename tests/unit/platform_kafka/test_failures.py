"""Every consumer failure has a class, and every class a bound; progress shows in health."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from aiokafka import ConsumerRecord
from aiokafka.errors import IllegalStateError, KafkaConnectionError, NodeNotReadyError
from faststream.kafka import KafkaBroker
from grpc_health.v1 import health, health_pb2

from platform_grpc.errors import DependencyUnavailable
from platform_grpc.server import HealthMonitor
from platform_kafka.dead_letter import PoisonMessage
from platform_kafka.failures import (
    FailurePolicy,
    RedeliveryNeeded,
    attempt_until_settled,
    dependency_of,
)
from platform_kafka.progress import ConsumerProgress, supervise, supervision_of
from platform_settings import KafkaSettings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, Mapping
    from typing import Any

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
GROUP, TOPIC = "indexer", "documents"


class RedisDown(Exception):
    """A dependency's own outage exception, named through `outages`."""


def fast_policy(**overrides: float) -> FailurePolicy:
    values: dict[str, float] = {
        "max_attempts": 3,
        "handler_timeout_s": 0.05,
        "outage_give_up_s": 10.0,
        "stall_after_s": 10.0,
        "redeliver_after_s": 10.0,
        "backoff_initial_s": 0.001,
        "backoff_max_s": 0.002,
    }
    values.update(overrides)
    return FailurePolicy(**values)  # type: ignore[arg-type]


def record(partition: int = 2, offset: int = 41) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=TOPIC,
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=b"{}",
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=2,
        headers=[],
    )


def new_progress(policy: FailurePolicy | None = None) -> ConsumerProgress:
    return ConsumerProgress(
        group_id=GROUP, topic=TOPIC, policy=policy or fast_policy(), affects_readiness=True
    )


class Script:
    """Work that takes the given steps in turn (raise it, or await it); the last repeats."""

    def __init__(self, *failures: BaseException | Callable[[], Awaitable[None]]) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if not self.failures:
            return
        step = self.failures[0] if len(self.failures) == 1 else self.failures.pop(0)
        if isinstance(step, BaseException):
            raise step
        await step()


async def settle(
    work: Callable[[], Awaitable[None]],
    progress: ConsumerProgress,
    *,
    policy: FailurePolicy | None = None,
    outages: Mapping[type[BaseException], str] | None = None,
    rec: ConsumerRecord[bytes, bytes] | None = None,
) -> PoisonMessage | None:
    with progress.track(rec or record()):
        return await attempt_until_settled(
            work, policy=policy or progress.policy, progress=progress, outages=outages or {}
        )


async def _succeed() -> None:
    return None


def run(scenario: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(scenario)


# --- poison ---------------------------------------------------------------------------


def test_poison_is_dead_lettered_at_once_keeping_its_exception() -> None:
    cause = ValueError("not json")
    poison = PoisonMessage("invalid_json", "expected a JSON object", exception=cause)
    work = Script(poison)

    failure = run(settle(work, new_progress(fast_policy(max_attempts=5))))

    assert work.calls == 1
    assert failure is poison
    assert failure.error_type == "invalid_json"
    assert failure.exception is cause
    assert failure.attempts == 1


def test_poison_after_failed_attempts_reports_every_attempt() -> None:
    work = Script(RuntimeError("flaky"), RuntimeError("flaky"), PoisonMessage("x", "never"))

    failure = run(settle(work, new_progress(fast_policy(max_attempts=5))))

    assert work.calls == 3
    assert failure is not None and failure.error_type == "x"
    assert failure.attempts == 3


# --- errors ---------------------------------------------------------------------------


def test_an_error_is_tried_max_attempts_times_then_handler_error() -> None:
    boom = RuntimeError("boom")
    work = Script(boom)
    progress = new_progress()

    failure = run(settle(work, progress, policy=fast_policy(max_attempts=3)))

    assert work.calls == 3
    assert failure is not None
    assert failure.error_type == "handler_error"
    assert failure.reason == "RuntimeError: boom"
    assert failure.exception is boom
    assert failure.attempts == 3


def test_an_error_that_clears_before_max_attempts_settles_the_message() -> None:
    work = Script(RuntimeError("once"), _succeed)

    failure = run(settle(work, new_progress()))

    assert failure is None
    assert work.calls == 2


def test_a_non_retriable_kafka_error_is_a_handler_error_not_an_outage() -> None:
    work = Script(IllegalStateError("bad state"))

    failure = run(settle(work, new_progress(), policy=fast_policy(max_attempts=2)))

    assert work.calls == 2
    assert failure is not None and failure.error_type == "handler_error"
    assert isinstance(failure.exception, IllegalStateError)


def test_a_long_error_is_described_by_a_bounded_reason() -> None:
    work = Script(RuntimeError("x" * 5000))

    failure = run(settle(work, new_progress(), policy=fast_policy(max_attempts=1)))

    assert failure is not None and failure.error_type == "handler_error"
    assert failure.reason.startswith("RuntimeError: xxx")
    assert len(failure.reason) <= 501


# --- timeouts -------------------------------------------------------------------------


def test_an_attempt_past_handler_timeout_is_a_handler_timeout() -> None:
    async def hang() -> None:
        await asyncio.sleep(5)

    work = Script(hang)
    started = time.monotonic()

    failure = run(settle(work, new_progress(), policy=fast_policy(max_attempts=2)))

    assert time.monotonic() - started < 1.0
    assert work.calls == 2
    assert failure is not None
    assert failure.error_type == "handler_timeout"
    assert "0.05 s" in failure.reason
    assert isinstance(failure.exception, TimeoutError)
    assert failure.attempts == 2


# --- outages --------------------------------------------------------------------------


def test_dependency_of_names_the_dependency_of_every_known_outage() -> None:
    outages: dict[type[BaseException], str] = {RedisDown: "redis"}
    assert dependency_of(RedisDown("gone"), outages) == "redis"
    assert dependency_of(DependencyUnavailable("triton: connection refused"), {}) == "triton"
    assert dependency_of(DependencyUnavailable(""), {}) == "dependency"
    assert dependency_of(KafkaConnectionError("no broker"), {}) == "kafka"
    assert dependency_of(NodeNotReadyError("node 1"), {}) == "kafka"
    assert dependency_of(ConnectionRefusedError("refused"), {}) == "connection"
    assert dependency_of(IllegalStateError("bad state"), {}) is None
    assert dependency_of(RuntimeError("bug"), outages) is None
    # What the caller names wins over the built-in classes.
    assert dependency_of(ConnectionResetError(), {ConnectionResetError: "qdrant"}) == "qdrant"


def test_an_outage_is_retried_past_max_attempts_and_reported_until_it_ends() -> None:
    progress = new_progress()
    seen: list[str | None] = []

    async def watch_then_fail() -> None:
        seen.append(progress.problem())
        raise RedisDown("connection lost")

    work = Script(
        RedisDown("down"), RedisDown("down"), RedisDown("down"), watch_then_fail, _succeed
    )

    async def deliver() -> PoisonMessage | None:
        with progress.track(record()):
            failure = await attempt_until_settled(
                work, policy=fast_policy(max_attempts=2), progress=progress, outages=outages
            )
            # Still in flight (not yet committed), but the outage is over.
            after.append((progress.status()["outage"], progress.problem()))
            return failure

    outages = {RedisDown: "redis"}
    after: list[tuple[str | None, str | None]] = []
    failure = run(deliver())

    assert failure is None
    assert work.calls == 5  # more than max_attempts: outages do not use them up
    (problem,) = seen
    assert problem is not None
    assert problem.startswith(f"{GROUP}: redis unavailable, {TOPIC}[2]@41 waiting")
    assert problem.endswith("after 4 attempts")
    assert after == [(None, None)]
    assert progress.status() == {}


def test_an_outage_ends_in_dependency_unavailable_after_outage_give_up_s() -> None:
    work = Script(RedisDown("gone"))
    started = time.monotonic()

    failure = run(
        settle(
            work,
            new_progress(),
            policy=fast_policy(outage_give_up_s=0.03, max_attempts=2),
            outages={RedisDown: "redis"},
        )
    )

    assert time.monotonic() - started >= 0.03
    assert failure is not None
    assert failure.error_type == "dependency_unavailable"
    assert failure.reason.startswith("redis unavailable for ")
    assert failure.reason.endswith("RedisDown: gone")
    assert isinstance(failure.exception, RedisDown)
    assert failure.attempts == work.calls > 2


@pytest.mark.parametrize(
    ("error", "dependency"),
    [
        (DependencyUnavailable("embedding: deadline exceeded"), "embedding"),
        (KafkaConnectionError("no broker"), "kafka"),
        (NodeNotReadyError("node 1"), "kafka"),
    ],
)
def test_dependency_unavailable_and_retriable_kafka_errors_are_outages(
    error: Exception, dependency: str
) -> None:
    work = Script(error)

    failure = run(
        settle(work, new_progress(), policy=fast_policy(outage_give_up_s=0.02, max_attempts=1))
    )

    assert work.calls > 1  # an error would have had its one attempt
    assert failure is not None
    assert failure.error_type == "dependency_unavailable"
    assert failure.reason.startswith(f"{dependency} unavailable for ")
    assert failure.exception is error


def test_a_long_outage_asks_for_redelivery_and_the_redelivery_keeps_count_and_clock() -> None:
    progress = new_progress()
    outages = {RedisDown: "redis"}
    work = Script(RedisDown("down"))
    rec = record(partition=1, offset=7)

    async def first_delivery() -> None:
        await settle(
            work, progress, policy=fast_policy(redeliver_after_s=0.1), outages=outages, rec=rec
        )

    started = time.monotonic()
    with pytest.raises(RedeliveryNeeded, match="RedisDown: down"):
        run(first_delivery())
    assert time.monotonic() - started < 1.0
    first_calls = work.calls
    assert first_calls > 1
    # The raise left the message in flight, outage and all.
    status = progress.status()
    assert status["attempts"] == first_calls
    assert status["outage"] == "redis"
    assert progress.problem() is not None

    # Redelivered: counted from the first delivery (0.1 s ago), the outage has
    # lasted longer than this policy tolerates, so the very first attempt here gives up.
    failure = run(
        settle(
            work,
            progress,
            policy=fast_policy(outage_give_up_s=0.01),
            outages=outages,
            rec=rec,
        )
    )
    assert work.calls == first_calls + 1
    assert failure is not None and failure.error_type == "dependency_unavailable"
    assert failure.attempts == first_calls + 1
    assert progress.status() == {}


# --- progress -------------------------------------------------------------------------


def test_progress_has_no_problem_when_idle() -> None:
    progress = new_progress(fast_policy(stall_after_s=0.0))
    assert progress.problem() is None
    assert progress.status() == {}
    assert progress.position() == {"group_id": GROUP, "topic": TOPIC}
    assert progress.health_name == f"consumer/{GROUP}/{TOPIC}"


def test_progress_reports_a_stall_naming_group_topic_partition_and_offset() -> None:
    progress = new_progress(fast_policy(stall_after_s=0.1))
    with progress.track(record(partition=3, offset=17)):
        progress.attempt_started()
        assert progress.problem() is None  # young, not stalled
        time.sleep(0.15)
        stalled = progress.problem()
        assert stalled is not None
        assert stalled.startswith(f"{GROUP}: no progress on {TOPIC}[3]@17 for ")
        assert stalled.endswith("(1 attempts; last error: none)")
        progress.failed("RuntimeError: boom")
        assert (progress.problem() or "").endswith("last error: RuntimeError: boom)")
    assert progress.problem() is None


def test_progress_reports_an_outage_at_once_naming_the_dependency_and_message() -> None:
    progress = new_progress()  # stall_after_s far away
    with progress.track(record(partition=0, offset=5)):
        progress.attempt_started()
        assert progress.outage("redis", "RedisDown: gone") == 0.0
        problem = progress.problem()
        assert problem is not None
        assert problem.startswith(f"{GROUP}: redis unavailable, {TOPIC}[0]@5 waiting ")
        assert problem.endswith("after 1 attempts")
        progress.outage_over()
        assert progress.problem() is None


def test_track_keeps_attempts_and_age_across_a_raise_and_clears_on_success() -> None:
    progress = new_progress(fast_policy(stall_after_s=0.05))
    rec = record(partition=2, offset=41)

    with pytest.raises(RedeliveryNeeded), progress.track(rec):
        assert progress.attempt_started() == 1
        assert progress.attempt_started() == 2
        raise RedeliveryNeeded("outage")
    assert progress.status()["attempts"] == 2
    time.sleep(0.07)

    # The same partition and offset again: a redelivery, not a new message.
    with progress.track(rec):
        assert progress.attempt_started() == 3
        # Its age counts from the first delivery, so it is stalled already.
        assert (progress.problem() or "").startswith(f"{GROUP}: no progress on {TOPIC}[2]@41")
    assert progress.status() == {}
    assert progress.problem() is None

    # Done means done: the same offset later is a fresh count.
    with progress.track(rec):
        assert progress.attempt_started() == 1


def test_track_starts_afresh_on_another_message_after_a_raise() -> None:
    progress = new_progress()
    with pytest.raises(RuntimeError), progress.track(record(offset=41)):
        progress.attempt_started()
        progress.attempt_started()
        raise RuntimeError("rewound")
    with progress.track(record(offset=42)):
        assert progress.attempt_started() == 1
        assert progress.status()["offset"] == 42


def test_a_message_handed_back_and_never_redelivered_stops_being_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A rebalance can give the rewound partition to another consumer: this one is idle.
    monkeypatch.setattr("platform_kafka.progress._HANDED_BACK_FOR_S", 0.05)
    progress = new_progress(fast_policy(stall_after_s=0.01))
    with pytest.raises(RedeliveryNeeded), progress.track(record(offset=41)):
        progress.attempt_started()
        raise RedeliveryNeeded("outage")
    time.sleep(0.02)
    assert progress.problem() is not None  # still ours: a redelivery may come
    time.sleep(0.05)
    assert progress.problem() is None
    assert progress.status() == {}


# --- policy and supervision -----------------------------------------------------------


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = FailurePolicy(backoff_initial_s=0.1, backoff_max_s=0.5)
    assert [policy.backoff_s(a) for a in (0, 1, 2, 3, 4, 10)] == [0.1, 0.1, 0.2, 0.4, 0.5, 0.5]


def test_max_poll_interval_outlasts_the_worst_case_of_the_policy() -> None:
    policy = FailurePolicy(
        max_attempts=4, handler_timeout_s=30, backoff_max_s=5, redeliver_after_s=60
    )
    assert policy.max_poll_interval_ms > 4 * (30 + 5) * 1000
    long_redelivery = FailurePolicy(max_attempts=1, handler_timeout_s=1, redeliver_after_s=600)
    assert long_redelivery.max_poll_interval_ms > 600 * 1000


def test_policy_from_settings_takes_the_configured_bounds() -> None:
    settings = KafkaSettings(
        consumer_max_attempts=7,
        consumer_handler_timeout_s=9.5,
        consumer_outage_give_up_s=99.0,
        consumer_stall_after_s=33.0,
    )
    policy = FailurePolicy.from_settings(settings)
    assert (policy.max_attempts, policy.handler_timeout_s) == (7, 9.5)
    assert (policy.outage_give_up_s, policy.stall_after_s) == (99.0, 33.0)


def test_supervision_is_per_broker_and_registers_consumers_with_its_policy() -> None:
    policy = fast_policy(stall_after_s=1.0)
    broker, other = KafkaBroker("127.0.0.1:1"), KafkaBroker("127.0.0.1:1")
    supervision = supervise(broker, policy)
    assert supervision_of(broker) is supervision

    progress = supervision.register(group_id=GROUP, topic=TOPIC, affects_readiness=False)
    assert supervision.consumers == [progress]
    assert progress.policy is policy
    assert progress.affects_readiness is False

    default = supervision_of(other)
    assert default is not supervision
    assert default.policy == FailurePolicy()
    assert supervision_of(other) is default


# --- health ---------------------------------------------------------------------------


@dataclass
class FakeReporter:
    health_name: str
    affects_readiness: bool
    reason: str | None = None

    def problem(self) -> str | None:
        return self.reason


async def check(servicer: health.aio.HealthServicer, service: str) -> int:
    request = health_pb2.HealthCheckRequest(service=service)
    response = await servicer.Check(request, None)
    return response.status


SERVICE = "genai.retrieval.v1.RetrievalService"


def test_a_reporter_that_affects_readiness_takes_the_service_out_of_rotation() -> None:
    async def scenario() -> None:
        servicer = health.aio.HealthServicer()
        reporter = FakeReporter("consumer/indexer/documents", affects_readiness=True)
        monitor = HealthMonitor(servicer, service_names=[SERVICE], probes={}, reporters=[reporter])

        assert await monitor.check_once() is True
        assert await check(servicer, reporter.health_name) == SERVING
        assert await check(servicer, "") == SERVING

        reporter.reason = "indexer: redis unavailable"
        assert await monitor.check_once() is False
        assert await check(servicer, reporter.health_name) == NOT_SERVING
        assert await check(servicer, "") == NOT_SERVING
        assert await check(servicer, SERVICE) == NOT_SERVING

        reporter.reason = None
        assert await monitor.check_once() is True
        assert await check(servicer, reporter.health_name) == SERVING
        assert await check(servicer, "") == SERVING
        assert await check(servicer, SERVICE) == SERVING

    run(scenario())


def test_a_reporter_that_does_not_affect_readiness_is_unhealthy_on_its_own_name_only() -> None:
    async def scenario() -> None:
        servicer = health.aio.HealthServicer()
        reporter = FakeReporter(
            "consumer/audit/answers", affects_readiness=False, reason="audit: stalled"
        )
        monitor = HealthMonitor(servicer, service_names=[SERVICE], probes={}, reporters=[reporter])

        assert await monitor.check_once() is True
        assert await check(servicer, reporter.health_name) == NOT_SERVING
        assert await check(servicer, "") == SERVING
        assert await check(servicer, SERVICE) == SERVING

    run(scenario())


def test_a_stalled_consumer_progress_reports_through_the_health_monitor() -> None:
    async def scenario() -> None:
        servicer = health.aio.HealthServicer()
        progress = new_progress(fast_policy(stall_after_s=0.1))
        monitor = HealthMonitor(servicer, service_names=[], probes={}, reporters=[progress])
        with progress.track(record()):
            assert await monitor.check_once() is True
            await asyncio.sleep(0.15)
            assert await monitor.check_once() is False
            assert await check(servicer, progress.health_name) == NOT_SERVING
            assert await check(servicer, "") == NOT_SERVING
        assert await monitor.check_once() is True
        assert await check(servicer, progress.health_name) == SERVING

    run(scenario())
