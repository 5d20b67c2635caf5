"""The embedded stack's launcher: clear errors, Redis when none answers, no orphans."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from platform_stack import StackConfig
from platform_stack.config import free_port, port_in_use
from platform_stack.errors import BinaryMissing, PortTaken
from platform_stack.processes import pid_alive
from platform_stack.redis_server import ensure_redis
from platform_stack.stack import Stack

pytestmark = pytest.mark.integration


def _config(tmp_path: Path) -> StackConfig:
    return StackConfig.from_env().with_free_ports(tmp_path)


def test_a_taken_port_is_named_before_anything_starts(tmp_path: Path) -> None:
    config = _config(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", config.ports["kafka"]))
        holder.listen()
        with pytest.raises(
            PortTaken, match=rf"kafka \({config.ports['kafka']}\).*GENAI_<NAME>_PORT"
        ):
            Stack(config).start()
    assert not (config.logs_dir / "kafka.log").exists()


def test_redis_is_started_when_none_answers_and_stopped_after(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    config = dataclasses.replace(_config(tmp_path), redis_url=url)
    process = ensure_redis(config, tie_to_parent=True)
    assert process is not None
    try:
        client = redis.Redis.from_url(url)
        assert client.set("k", "v") and client.get("k") == b"v"
    finally:
        process.stop()
    assert not process.alive()
    # And when one answers, none is started.
    assert (
        ensure_redis(
            dataclasses.replace(config, redis_url="redis://127.0.0.1:6379/15"), tie_to_parent=True
        )
        is None
    )


def test_genai_up_status_down_leaves_no_process_behind(tmp_path: Path) -> None:
    config = _config(tmp_path)
    env = {
        **os.environ,
        "GENAI_STATE_DIR": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        **{f"GENAI_{name.upper()}_PORT": str(port) for name, port in config.ports.items()},
    }
    genai = [sys.executable, "-m", "platform_stack.cli"]
    up = subprocess.run([*genai, "up"], env=env, capture_output=True, text=True, timeout=240)
    assert up.returncode == 0, up.stderr
    pids = json.loads((tmp_path / "stack.json").read_text())["processes"]
    try:
        assert set(pids) >= {
            "kafka",
            "triton",
            "ingestion",
            "embedding",
            "retrieval",
            "generation",
            "guardrail",
            "feedback",
        }
        status = subprocess.run(
            [*genai, "status"], env=env, capture_output=True, text=True, timeout=30
        )
        assert status.returncode == 0 and status.stdout.count("running") == len(pids)
        again = subprocess.run([*genai, "up"], env=env, capture_output=True, text=True, timeout=30)
        assert again.returncode == 1 and "genai down" in again.stderr
    finally:
        down = subprocess.run(
            [*genai, "down"], env=env, capture_output=True, text=True, timeout=120
        )
    assert down.returncode == 0
    assert [name for name, pid in pids.items() if pid_alive(pid)] == []
    # Nothing listens any more (Triton's python-backend stubs went with its process group).
    assert [name for name, port in config.ports.items() if port_in_use(port)] == []


def test_a_missing_engine_is_named_and_nothing_is_left_running(tmp_path: Path) -> None:
    config = dataclasses.replace(_config(tmp_path), model_repository=tmp_path / "no-models")
    with pytest.raises(BinaryMissing, match="make models"):
        Stack(config).start()
    assert [name for name, port in config.ports.items() if port_in_use(port)] == []


def test_ctrl_c_while_starting_leaves_nothing_behind(tmp_path: Path) -> None:
    config = _config(tmp_path)
    env = {
        **os.environ,
        "GENAI_STATE_DIR": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        **{f"GENAI_{name.upper()}_PORT": str(port) for name, port in config.ports.items()},
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "platform_stack.cli", "up"], env=env, stderr=subprocess.PIPE
    )
    try:
        # Interrupt once the broker is up and Triton is still loading.
        deadline = time.monotonic() + 60
        while not port_in_use(config.ports["kafka"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert port_in_use(config.ports["kafka"]), "the broker never started"
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=60) == 130
    finally:
        if up.poll() is None:
            up.kill()
    assert [name for name, port in config.ports.items() if port_in_use(port)] == []
    assert not (tmp_path / "stack.json").exists()
