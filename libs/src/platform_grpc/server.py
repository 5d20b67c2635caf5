"""A grpc.aio server with health, reflection, limits and our interceptors."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from platform_grpc.interceptors import ServerInterceptor
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence

    from platform_settings import GrpcServerSettings

_log = get_logger(__name__)


@dataclass(frozen=True)
class ServiceRegistration:
    """One gRPC service to serve: its full name, generated add-function and servicer."""

    name: str
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    servicer: Any


def build_server(
    *, port: int, limits: GrpcServerSettings, services: Sequence[ServiceRegistration]
) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    """Return (server, health servicer, bound port); every service starts NOT_SERVING."""
    server = grpc.aio.server(
        interceptors=[ServerInterceptor(default_deadline_s=limits.default_deadline_s)],
        options=[
            ("grpc.max_receive_message_length", limits.max_message_bytes),
            ("grpc.max_send_message_length", limits.max_message_bytes),
            ("grpc.so_reuseport", 0),
        ],
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for service in services:
        service.add_to_server(service.servicer, server)
    reflection.enable_server_reflection(
        [s.name for s in services] + [health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    bound = server.add_insecure_port(f"0.0.0.0:{port}")
    if bound == 0:
        raise OSError(f"cannot bind gRPC port {port}: it is taken or not permitted")
    return server, health_servicer, bound


#: Health service name that reports SERVING while the process runs, whatever its
#: dependencies do: for liveness probes, so an outage of Kafka does not restart every pod.
LIVENESS_SERVICE = "liveness"


class HealthReporter(Protocol):
    """A part of the service that reports its own health, with a reason (e.g. a consumer)."""

    @property
    def health_name(self) -> str:
        """Health service name under which it is reported on its own."""
        ...

    @property
    def affects_readiness(self) -> bool:
        """Whether the whole service is NOT_SERVING while this part is unhealthy."""
        ...

    def problem(self) -> str | None:
        """Why it is unhealthy now, or None."""
        ...


class HealthMonitor:
    """Probes dependencies and reports SERVING only while all of them answer.

    The overall name ("") and each service name follow the probes and the reporters
    that affect readiness; each reporter also has its own name (e.g.
    `consumer/<group>/<topic>`). `LIVENESS_SERVICE` is SERVING from start to shutdown.
    """

    def __init__(
        self,
        health_servicer: health.aio.HealthServicer,
        *,
        service_names: Sequence[str],
        probes: Mapping[str, Callable[[], Awaitable[bool]]],
        reporters: Sequence[HealthReporter] = (),
        interval_s: float = 1.0,
        probe_timeout_s: float = 2.0,
    ) -> None:
        self._health = health_servicer
        self._names = ["", *service_names]
        self._probes = dict(probes)
        self._reporters = list(reporters)
        self._interval_s = interval_s
        self._probe_timeout_s = probe_timeout_s
        self._serving: bool | None = None

    async def check_once(self) -> bool:
        """Run every probe once and publish the result."""
        failing = [
            name for name, ok in zip(self._probes, await self._run_probes(), strict=True) if not ok
        ]
        reasons: dict[str, str] = {}
        for reporter in self._reporters:
            problem = reporter.problem()
            await self._health.set(reporter.health_name, _status(serving=problem is None))
            if problem is not None and reporter.affects_readiness:
                reasons[reporter.health_name] = problem
        serving = not failing and not reasons
        if serving != self._serving:
            log = _log.info if serving else _log.warning
            log("health_changed", serving=serving, failing=failing, reasons=reasons)
            self._serving = serving
        for name in self._names:
            await self._health.set(name, _status(serving=serving))
        return serving

    async def run(self, stop: asyncio.Event) -> None:
        """Probe every `interval_s` until `stop` is set."""
        await self._health.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        while not stop.is_set():
            await self.check_once()
            try:
                await asyncio.wait_for(stop.wait(), self._interval_s)
            except TimeoutError:
                continue

    async def mark_not_serving(self) -> None:
        """Report NOT_SERVING (on shutdown, so load balancers drain us first)."""
        names = [*self._names, *(r.health_name for r in self._reporters), LIVENESS_SERVICE]
        for name in names:
            await self._health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)

    async def _run_probes(self) -> list[bool]:
        async def run(probe: Callable[[], Awaitable[bool]]) -> bool:
            try:
                return bool(await asyncio.wait_for(probe(), self._probe_timeout_s))
            except Exception:  # noqa: BLE001 - a failing probe means "not ready", nothing more
                return False

        return list(await asyncio.gather(*(run(p) for p in self._probes.values())))


def _status(*, serving: bool) -> int:
    return (
        health_pb2.HealthCheckResponse.SERVING
        if serving
        else health_pb2.HealthCheckResponse.NOT_SERVING
    )
