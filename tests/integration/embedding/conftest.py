"""Fixtures for the embedding integration tests: a built engine and a running tritonserver."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
# libs/ may not be pip-installed in this venv; resolve platform_triton from the checkout instead.
if str(REPO_ROOT / "libs" / "src") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "libs" / "src"))

from platform_triton import TritonEmbeddingClient, tritonserver_command  # noqa: E402

BUILD_SCRIPT = REPO_ROOT / "services" / "embedding" / "engine" / "build_engine.py"
CACHE_DIR = REPO_ROOT / ".cache"
READY_TIMEOUT_S = 120.0
# Triton drains in-flight requests for up to --exit-timeout-secs (30 s) after SIGTERM.
STOP_TIMEOUT_S = 40.0


def pytest_configure(config: pytest.Config) -> None:
    """Register the integration marker so -m filtering works without a pytest.ini entry."""
    config.addinivalue_line("markers", "integration: builds artifacts and starts real servers")


def free_ports(count: int) -> list[int]:
    """Return distinct free TCP ports (all sockets stay bound until every port is picked)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _log_tail(path: Path, lines: int = 40) -> str:
    """Return the end of the server log for failure messages."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def _probe(url: str) -> bool:
    """Ask the server once whether text_embedding is ready."""
    client = TritonEmbeddingClient(url=url)
    try:
        return await client.is_ready()
    finally:
        await client.close()


def _wait_ready(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    """Poll readiness until READY_TIMEOUT_S, failing early if the server exits."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"tritonserver exited with {process.returncode}:\n{_log_tail(log_path)}")
        if asyncio.run(_probe(url)):
            return
        time.sleep(0.5)
    pytest.fail(f"tritonserver not ready after {READY_TIMEOUT_S:.0f}s:\n{_log_tail(log_path)}")


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its Python backend stubs (same process group), escalating to SIGKILL."""
    for sig, timeout in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture
def unused_tcp_url() -> str:
    """Address of a local port with nothing listening on it."""
    return f"127.0.0.1:{free_ports(1)[0]}"


@pytest.fixture(scope="module")
def model_repository() -> Path:
    """Build (or reuse) the Triton model repository under the repo's .cache."""
    subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--cache", str(CACHE_DIR)], check=True, timeout=900
    )
    return CACHE_DIR / "triton" / "model_repository"


@pytest.fixture(scope="module")
def triton_url(model_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start tritonserver on free ports and yield its gRPC address; always stop it afterwards."""
    http_port, grpc_port, metrics_port = free_ports(3)
    argv, env = tritonserver_command(
        model_repository=model_repository,
        http_port=http_port,
        grpc_port=grpc_port,
        metrics_port=metrics_port,
        cache_dir=CACHE_DIR / "triton",
    )
    log_path = tmp_path_factory.mktemp("tritonserver") / "tritonserver.log"
    url = f"127.0.0.1:{grpc_port}"
    with log_path.open("wb") as log:
        # A new session makes the server the leader of a process group that also holds its stubs.
        process = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(process, url, log_path)
        yield url
    finally:
        _terminate(process)
