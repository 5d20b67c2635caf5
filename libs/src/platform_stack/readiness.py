"""How to tell that a component is ready, each with a bounded wait."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from platform_stack.errors import NotReady

if TYPE_CHECKING:
    from collections.abc import Callable

    from platform_stack.processes import ManagedProcess


def tcp_open(port: int) -> bool:
    """Something accepts connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def http_ok(url: str) -> bool:
    """GET `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:  # noqa: S310 - our own URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def grpc_serving(address: str, service: str = "") -> bool:
    """The standard health service at `address` says SERVING (for `service`, "" = overall)."""
    with grpc.insecure_channel(address) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=1.0
            )
        except grpc.RpcError:
            return False
    return response.status == health_pb2.HealthCheckResponse.SERVING


def wait_until(
    check: Callable[[], bool], *, what: str, timeout_s: float, process: ManagedProcess | None
) -> None:
    """Poll `check` until true; fail fast if `process` exits, with its log's tail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and not process.alive():
            raise NotReady(f"{what} exited during start-up:\n{_tail(process)}")
        time.sleep(0.25)
    tail = f":\n{_tail(process)}" if process is not None else ""
    raise NotReady(f"{what} was not ready after {timeout_s:.0f} s{tail}")


def _tail(process: ManagedProcess, lines: int = 25) -> str:
    try:
        text = process.log.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {process.log})"
    return "\n".join(text[-lines:]) + f"\n(full log: {process.log})"
