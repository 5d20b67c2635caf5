"""Where the embedded stack puts things and which ports it uses."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from platform_stack.errors import StackError

#: Where the embedded broker keeps its log: "s3" (on disk, through our S3 server) or "memory".
KAFKA_STORAGES = ("s3", "memory")

#: The six services, in start order (dependencies first).
SERVICES = ("guardrail", "feedback", "ingestion", "embedding", "retrieval", "generation")

_DEFAULT_PORTS = {
    "kafka": 19092,
    "s3": 19093,  # the broker's object storage (durable mode only)
    "triton_http": 18000,
    "triton_grpc": 18001,
    "triton_metrics": 18002,
    "ingestion": 50051,
    "embedding": 50052,
    "retrieval": 50053,
    "generation": 50054,
    "guardrail": 50055,
    "feedback": 50056,
}


def repo_root() -> Path:
    """The checkout this package is installed from (editable install)."""
    return Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class StackConfig:
    """Ports, folders and the Redis URL of one embedded stack."""

    state_dir: Path
    model_repository: Path
    cache_dir: Path
    redis_url: str
    ports: dict[str, int] = field(default_factory=lambda: dict(_DEFAULT_PORTS))
    #: "s3": every record, consumer group and offset is on disk under `broker_dir` and
    #: survives a restart or a crash of the broker. "memory": lost when the broker stops.
    kafka_storage: str = "s3"

    def __post_init__(self) -> None:
        if self.kafka_storage not in KAFKA_STORAGES:
            raise StackError(
                f"unknown Kafka storage {self.kafka_storage!r}: set GENAI_KAFKA_STORAGE to "
                + " or ".join(KAFKA_STORAGES)
            )

    @classmethod
    def from_env(cls) -> StackConfig:
        """Defaults, overridden by GENAI_STATE_DIR, GENAI_<NAME>_PORT, GENAI_KAFKA_STORAGE
        and REDIS_URL."""
        root = repo_root()
        cache = Path(os.environ.get("GENAI_CACHE_DIR", root / ".cache"))
        ports = {
            name: int(os.environ.get(f"GENAI_{name.upper()}_PORT", default))
            for name, default in _DEFAULT_PORTS.items()
        }
        return cls(
            state_dir=Path(os.environ.get("GENAI_STATE_DIR", root / ".genai")),
            model_repository=cache / "triton" / "model_repository",
            cache_dir=cache,
            redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            ports=ports,
            kafka_storage=os.environ.get("GENAI_KAFKA_STORAGE", "s3").strip().lower(),
        )

    def with_free_ports(
        self, state_dir: Path, *, redis_url: str | None = None, kafka_storage: str | None = None
    ) -> StackConfig:
        """A copy on ports the OS says are free, in its own folder (tests, benchmarks); on
        another Redis database or broker storage when named (answers kept apart)."""
        return StackConfig(
            state_dir=state_dir,
            model_repository=self.model_repository,
            cache_dir=self.cache_dir,
            redis_url=redis_url or self.redis_url,
            ports=dict(zip(self.ports, free_ports(len(self.ports)), strict=True)),
            kafka_storage=kafka_storage or self.kafka_storage,
        )

    @property
    def logs_dir(self) -> Path:
        """One log file per component."""
        return self.state_dir / "logs"

    @property
    def qdrant_path(self) -> Path:
        """The local Qdrant store, owned by the retrieval service."""
        return self.state_dir / "qdrant"

    @property
    def broker_dir(self) -> Path:
        """The broker's durable log: topics, consumer groups and their committed offsets."""
        return self.state_dir / "broker"

    @property
    def pid_file(self) -> Path:
        """What `genai down` reads to stop a detached stack."""
        return self.state_dir / "stack.json"

    def address(self, service: str) -> str:
        """host:port of a service or of Triton's gRPC ('triton')."""
        port = self.ports["triton_grpc" if service == "triton" else service]
        return f"127.0.0.1:{port}"

    @property
    def kafka_bootstrap(self) -> str:
        """Bootstrap servers of the embedded broker."""
        return f"127.0.0.1:{self.ports['kafka']}"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports: every socket stays bound until all are picked."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port (or it cannot be bound)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False
