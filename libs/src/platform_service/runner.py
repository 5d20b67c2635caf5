"""The one lifecycle every service shares.

Startup order: the service's lifespan builds its clients, the gRPC server starts
NOT_SERVING with the health monitor, topics are ensured and the Kafka subscribers
start; the monitor flips to SERVING once every dependency probe answers. SIGTERM or SIGINT reverses
it: NOT_SERVING first (so load balancers drain), then the server stops with a grace
period, subscribers stop (committing nothing past what was processed), clients close.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from platform_grpc import HealthMonitor, ServiceRegistration, build_server
from platform_kafka import ensure_topics, supervision_of
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence
    from contextlib import AbstractAsyncContextManager

    from faststream.kafka import KafkaBroker

    from platform_settings import KafkaSettings, ServiceSettings

_log = get_logger(__name__)
_BROKER_PING_TIMEOUT_S = 2.0


@dataclass
class ServiceParts:
    """What a service's lifespan hands to the runner."""

    services: Sequence[ServiceRegistration]
    probes: Mapping[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)
    broker: KafkaBroker | None = None
    kafka: KafkaSettings | None = None
    topics: Sequence[str] = ()


async def run_service(
    settings: ServiceSettings,
    lifespan: Callable[[], AbstractAsyncContextManager[ServiceParts]],
) -> None:
    """Serve until SIGTERM/SIGINT, then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async with lifespan() as parts:
        server, health_servicer, port = build_server(
            port=settings.grpc_port, limits=settings.grpc, services=parts.services
        )
        started = asyncio.Event()

        async def startup_done() -> bool:
            return started.is_set()

        monitor = HealthMonitor(
            health_servicer,
            service_names=[s.name for s in parts.services],
            probes={**parts.probes, **_broker_probe(parts.broker), "startup": startup_done},
            reporters=supervision_of(parts.broker).consumers if parts.broker is not None else (),
        )
        await monitor.mark_not_serving()
        # The server and the monitor start before the subscribers: joining a consumer group
        # can wait for a crashed predecessor's session to expire, and reads must not.
        await server.start()
        monitor_task = asyncio.create_task(monitor.run(stop))
        try:
            if parts.broker is not None:
                if parts.kafka is not None and parts.topics:
                    await ensure_topics(parts.kafka, parts.topics)
                await parts.broker.start()
            started.set()
            _log.info("service_started", grpc_port=port, services=[s.name for s in parts.services])
            await stop.wait()
        finally:
            _log.info("service_stopping")
            stop.set()
            await monitor.mark_not_serving()
            await monitor_task
            await server.stop(settings.grpc.shutdown_grace_s)
            if parts.broker is not None:
                await parts.broker.stop()
    _log.info("service_stopped")


def _broker_probe(broker: KafkaBroker | None) -> dict[str, Callable[[], Awaitable[bool]]]:
    """Every service with a broker depends on it: probe it here, once for all of them."""
    if broker is None:
        return {}

    async def kafka() -> bool:
        return bool(await broker.ping(timeout=_BROKER_PING_TIMEOUT_S))

    return {"kafka": kafka}
