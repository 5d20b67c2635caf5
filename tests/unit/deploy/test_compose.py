"""Structure checks of the deployment files: compose.yaml, the Dockerfiles and deploy/k8s.

Nothing here needs Docker, a cluster or the network; the files are parsed and compared with the
service table below, which is the contract the services' settings implement.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = REPO_ROOT / "compose.yaml"
K8S_DIR = REPO_ROOT / "deploy" / "k8s"
TRITON_DOCKERFILE = REPO_ROOT / "deploy" / "triton" / "Dockerfile"

KAFKA_ENV = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_ENABLE_IDEMPOTENCE",
    "KAFKA_TOPIC_PARTITIONS",
    "KAFKA_REPLICATION_FACTOR",
}
COMMON_ENV = {"LOG_FORMAT", "LOG_LEVEL"}


@dataclass(frozen=True)
class ServiceSpec:
    port: int
    depends_on: frozenset[str]
    env: frozenset[str] = field(default_factory=frozenset)
    # Variables compose must set to exactly these values (mostly in-network addresses).
    exact_env: dict[str, str] = field(default_factory=dict)

    def required_env(self, name: str) -> set[str]:
        return {f"{name.upper()}_GRPC_PORT", *COMMON_ENV, *self.env, *self.exact_env}


SERVICES: dict[str, ServiceSpec] = {
    "ingestion": ServiceSpec(
        port=50051,
        depends_on=frozenset({"kafka"}),
        env=frozenset(KAFKA_ENV),
    ),
    "embedding": ServiceSpec(
        port=50052,
        depends_on=frozenset({"kafka", "triton"}),
        env=frozenset(KAFKA_ENV),
        exact_env={
            "EMBEDDING_TRITON_URL": "triton:8001",
            "EMBEDDING_TRITON_MODEL": "text_embedding",
        },
    ),
    "retrieval": ServiceSpec(
        port=50053,
        depends_on=frozenset({"kafka", "qdrant", "opensearch", "embedding"}),
        env=frozenset({*KAFKA_ENV, "RETRIEVAL_LEXICAL_BACKEND"}),
        exact_env={
            "RETRIEVAL_EMBEDDING_ADDR": "embedding:50052",
            "RETRIEVAL_QDRANT_URL": "http://qdrant:6333",
            "RETRIEVAL_OPENSEARCH_URL": "http://opensearch:9200",
        },
    ),
    "generation": ServiceSpec(
        port=50054,
        # generation also consumes from Kafka (documents.indexed retires cached answers).
        depends_on=frozenset({"kafka", "redis", "retrieval", "guardrail", "feedback"}),
        env=frozenset(KAFKA_ENV),
        exact_env={
            "REDIS_URL": "redis://redis:6379/0",
            "GENERATION_RETRIEVAL_ADDR": "retrieval:50053",
            "GENERATION_GUARDRAIL_ADDR": "guardrail:50055",
            "GENERATION_FEEDBACK_ADDR": "feedback:50056",
        },
    ),
    "guardrail": ServiceSpec(port=50055, depends_on=frozenset()),
    "feedback": ServiceSpec(
        port=50056,
        depends_on=frozenset({"kafka"}),
        env=frozenset(KAFKA_ENV),
    ),
}

# Dependency -> what its image reference must start with (None: built from a Dockerfile).
DEPENDENCIES: dict[str, str | None] = {
    "kafka": "apache/kafka:3.8.0",
    "qdrant": "qdrant/qdrant:v1.16.",
    "opensearch": "opensearchproject/opensearch:2.",
    "redis": "redis:7-alpine",
    "triton": None,
}

# What each dependency's healthcheck must exercise.
DEPENDENCY_HEALTHCHECKS = {
    "kafka": "/opt/kafka/bin/kafka-topics.sh",
    "qdrant": "/readyz",
    "opensearch": "/_cluster/health",
    "redis": "redis-cli ping",
    "triton": "/v2/health/ready",
}

# Host ports compose may publish; every other service publishes nothing.
PUBLISHED = {"generation": {50054}, "ingestion": {50051}, "kafka": {9092}}

ALL_COMPOSE_SERVICES = sorted([*SERVICES, *DEPENDENCIES])


# ---------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two compose forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def healthcheck_command(service: dict[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, list):
        assert test and test[0] in {"CMD", "CMD-SHELL"}, (
            f"healthcheck test must start with CMD: {test}"
        )
        return " ".join(test[1:])
    assert isinstance(test, str) and test, "healthcheck has no test"
    return test


def published_ports(service: dict[str, Any]) -> set[int]:
    """Host ports of a service's `ports:` entries (short or long syntax)."""
    result: set[int] = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            if entry.get("published") is not None:
                result.add(int(str(entry["published"]).split("-")[0]))
            continue
        spec = str(entry).split("/")[0]
        parts = spec.rsplit(":", 2)
        if len(parts) >= 2:  # [IP:]HOST:CONTAINER
            result.add(int(parts[-2].split("-")[0]))
        else:  # a bare container port is published on a random host port
            result.add(0)
    return result


def dockerfile_of(service: dict[str, Any]) -> Path:
    build = service.get("build")
    assert build, "service has no build section"
    if isinstance(build, str):
        return REPO_ROOT / build / "Dockerfile"
    return REPO_ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, f"{path} ends inside a continued line"
    return instructions


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form CMD/HEALTHCHECK CMD, or the shell words otherwise."""
    args = args.strip()
    if args.startswith("["):
        value = json.loads(args)
        assert isinstance(value, list) and all(isinstance(v, str) for v in value)
        return value
    return shlex.split(args)


def load_k8s(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d.get("kind") == kind and d.get("metadata", {}).get("name") == name]
    assert len(found) == 1, f"expected one {kind} named {name!r}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def k8s_config() -> dict[str, str]:
    docs = load_k8s(K8S_DIR / "config.yaml")
    config_maps = [d for d in docs if d.get("kind") == "ConfigMap"]
    assert len(config_maps) == 1, "deploy/k8s/config.yaml must hold exactly one ConfigMap"
    data = config_maps[0].get("data") or {}
    assert all(isinstance(v, str) for v in data.values()), "ConfigMap values must be strings"
    return {"__name__": config_maps[0]["metadata"]["name"], **data}


# ---------------------------------------------------------------------------- compose


def test_compose_top_level(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the Compose spec has no version key"
    assert "x-service-defaults" in compose, "shared service settings live in x-service-defaults"


@pytest.mark.parametrize("name", ALL_COMPOSE_SERVICES)
def test_compose_service_present_with_healthcheck(compose: dict[str, Any], name: str) -> None:
    assert name in compose["services"], f"compose.yaml lacks service {name!r}"
    assert healthcheck_command(compose["services"][name])


@pytest.mark.parametrize("name", sorted(DEPENDENCIES))
def test_compose_dependency_image(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    expected = DEPENDENCIES[name]
    if expected is None:
        assert dockerfile_of(service).is_file()
    else:
        assert str(service.get("image", "")).startswith(expected), service.get("image")
    assert DEPENDENCY_HEALTHCHECKS[name] in healthcheck_command(service)
    assert service.get("restart") == "unless-stopped"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_compose_service_builds_its_dockerfile(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    build = service.get("build")
    assert isinstance(build, dict), "build must name context and dockerfile"
    assert Path(build.get("context", ".")) == Path("."), "the build context is the repository root"
    assert Path(build["dockerfile"]) == Path("services", name, "Dockerfile")
    assert dockerfile_of(service).is_file()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_compose_service_depends_on_healthy(compose: dict[str, Any], name: str) -> None:
    depends_on = compose["services"][name].get("depends_on") or {}
    assert isinstance(depends_on, dict), "depends_on must use the long form with conditions"
    assert set(depends_on) == SERVICES[name].depends_on
    for dependency, spec in depends_on.items():
        assert spec.get("condition") == "service_healthy", f"{name} -> {dependency}"
        assert dependency in compose["services"], f"{name} depends on unknown {dependency}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_compose_service_environment(compose: dict[str, Any], name: str) -> None:
    spec = SERVICES[name]
    env = environment(compose["services"][name])
    missing = spec.required_env(name) - set(env)
    assert not missing, f"{name} lacks {sorted(missing)}"
    assert env[f"{name.upper()}_GRPC_PORT"] == str(spec.port)
    for key, value in spec.exact_env.items():
        assert env[key] == value, f"{name}: {key}={env[key]!r}"
    if "KAFKA_BOOTSTRAP_SERVERS" in spec.env:
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["KAFKA_ENABLE_IDEMPOTENCE"] == "true"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_compose_service_healthcheck_probes_its_port(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    command = healthcheck_command(service)
    assert "grpc_health_probe" in command
    assert re.search(rf"-addr[= ]\S*:{SERVICES[name].port}\b", command), command
    assert service.get("restart") == "unless-stopped"


@pytest.mark.parametrize("name", ALL_COMPOSE_SERVICES)
def test_compose_publishes_only_the_public_ports(compose: dict[str, Any], name: str) -> None:
    assert published_ports(compose["services"][name]) == PUBLISHED.get(name, set())


def test_compose_service_ports_are_distinct() -> None:
    ports = [spec.port for spec in SERVICES.values()]
    assert len(set(ports)) == len(ports)


def test_compose_triton_serves_the_mounted_model_repository(
    compose: dict[str, Any],
) -> None:
    triton = compose["services"]["triton"]
    command = triton.get("command")
    command = command if isinstance(command, list) else shlex.split(command or "")
    assert "--model-repository=/models" in command
    assert "--model-control-mode=none" in command
    mounts = []
    for volume in triton.get("volumes") or []:
        if isinstance(volume, dict):
            mounts.append(
                (
                    volume.get("source", ""),
                    volume.get("target"),
                    bool(volume.get("read_only")),
                )
            )
        else:
            source, target, *mode = str(volume).split(":")
            mounts.append((source, target, "ro" in mode))
    assert any(
        target == "/models" and read_only and Path(source) == Path(".cache/triton/model_repository")
        for source, target, read_only in mounts
    ), mounts
    assert "/v2/health/ready" in healthcheck_command(triton)


# ---------------------------------------------------------------------------- Dockerfiles


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_dockerfile(name: str) -> None:
    path = REPO_ROOT / "services" / name / "Dockerfile"
    assert path.is_file(), f"{path} is missing"
    instructions = dockerfile_instructions(path)
    port = SERVICES[name].port

    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert len(froms) >= 2 and all(f.split()[0] == "python:3.11-slim" for f in froms), froms

    runs = [args for keyword, args in instructions if keyword == "RUN"]
    libs = next(i for i, r in enumerate(runs) if re.search(r"pip install \S*libs\b", r))
    own = next(i for i, r in enumerate(runs) if re.search(rf"pip install \S*services/{name}\b", r))
    assert libs < own, "libs must be installed before the service"
    assert any(re.search(r"grpc-health-probe/releases/download/v0\.4\.\d+/", r) for r in runs)

    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the image must not run as root"

    exposed = [
        port for keyword, args in instructions if keyword == "EXPOSE" for port in args.split()
    ]
    assert exposed == [str(port)], exposed

    healthchecks = [args for keyword, args in instructions if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    probe = exec_form(re.split(r"\bCMD\b", healthchecks[0], maxsplit=1)[1])
    assert probe[0].endswith("grpc_health_probe") and f"-addr=127.0.0.1:{port}" in probe, probe

    cmds = [args for keyword, args in instructions if keyword == "CMD"]
    assert cmds and exec_form(cmds[-1]) == ["python", "-m", f"{name}_service"]


def test_triton_dockerfile() -> None:
    assert TRITON_DOCKERFILE.is_file()
    instructions = dockerfile_instructions(TRITON_DOCKERFILE)
    assert [args for keyword, args in instructions if keyword == "FROM"] == [
        "nvcr.io/nvidia/tritonserver:24.10-py3"
    ]
    installs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    for package in ("onnxruntime", "tokenizers", '"numpy<2"'):
        assert package in installs, package
    assert any(
        keyword == "HEALTHCHECK" and "/v2/health/ready" in args for keyword, args in instructions
    )


# ---------------------------------------------------------------------------- Kubernetes


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_k8s_deployment(name: str, k8s_config: dict[str, str]) -> None:
    path = K8S_DIR / f"{name}.yaml"
    assert path.is_file(), f"{path} is missing"
    docs = load_k8s(path)
    port = SERVICES[name].port

    deployment = one(docs, "Deployment", name)
    pod = deployment["spec"]["template"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector and selector.items() <= pod["metadata"]["labels"].items()

    containers = pod["spec"]["containers"]
    assert len(containers) == 1
    container = containers[0]
    assert str(container["image"]).split(":")[0].endswith(f"/{name}")
    assert [p["containerPort"] for p in container["ports"]] == [port]

    for probe in ("readinessProbe", "livenessProbe"):
        assert container.get(probe, {}).get("grpc", {}).get("port") == port, probe

    resources = container.get("resources", {})
    for section in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources.get(section, {})), section

    config_refs = [
        e["configMapRef"]["name"] for e in container.get("envFrom", []) if "configMapRef" in e
    ]
    assert config_refs == [k8s_config["__name__"]]

    own_env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert own_env.get(f"{name.upper()}_GRPC_PORT") == str(port)
    missing = SERVICES[name].required_env(name) - set(own_env) - set(k8s_config)
    assert not missing, f"{name} gets no {sorted(missing)}"

    service = one(docs, "Service", name)
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert [p["port"] for p in service["spec"]["ports"]] == [port]
    target = service["spec"]["ports"][0].get("targetPort", port)
    assert target in {port, container["ports"][0].get("name")}


def test_k8s_config_addresses_match_the_service_table(
    k8s_config: dict[str, str],
) -> None:
    # In-cluster Services carry the same names and ports as the compose services.
    for spec in SERVICES.values():
        for key, value in spec.exact_env.items():
            if key.endswith("_ADDR"):
                assert k8s_config.get(key) == value, key
    assert k8s_config.get("KAFKA_ENABLE_IDEMPOTENCE") == "true"


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    resources = kustomization.get("resources") or []
    on_disk = {
        p.name
        for p in K8S_DIR.iterdir()
        if p.suffix in {".yaml", ".yml"} and p.name != "kustomization.yaml"
    }
    assert len(resources) == len(set(resources)), "duplicate resources"
    assert set(resources) == on_disk
    assert {f"{name}.yaml" for name in SERVICES} | {"config.yaml"} <= on_disk
