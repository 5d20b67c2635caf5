"""One real embedded stack per test session: Tansu, Triton, Redis, local Qdrant, six services."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from contracts.rpc import assistant_pb2_grpc, common_pb2, ingestion_pb2_grpc
from platform_stack import Stack, StackConfig

# Tests keep their answers apart from the demo's: another Redis database.
_TEST_REDIS_URL = os.environ.get("GENAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The running stack; started once, always stopped."""
    base = StackConfig.from_env()
    if request.config.getoption("--stack") == "external":
        yield Stack(base)
        return
    config = base.with_free_ports(tmp_path_factory.mktemp("stack"), redis_url=_TEST_REDIS_URL)
    with Stack(config) as running:
        yield running


@pytest.fixture
def own_stack(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    """The stack, for tests that stop, crash or restart its parts: never someone else's."""
    if request.config.getoption("--stack") == "external":
        pytest.skip("stops or crashes components: runs only on the embedded stack")
    return stack


@pytest.fixture(scope="session")
def assistant(stack: Stack) -> Iterator[assistant_pb2_grpc.AssistantStub]:
    """A client of the public Assistant API."""
    with grpc.insecure_channel(stack.config.address("generation")) as channel:
        yield assistant_pb2_grpc.AssistantStub(channel)


@pytest.fixture(scope="session")
def ingestion(stack: Stack) -> Iterator[ingestion_pb2_grpc.IngestionStub]:
    """A client of the Ingestion API."""
    with grpc.insecure_channel(stack.config.address("ingestion")) as channel:
        yield ingestion_pb2_grpc.IngestionStub(channel)


@pytest.fixture
def tenant() -> str:
    """A tenant of its own per test: tests share the stack, never data."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def principal(tenant: str) -> common_pb2.Principal:
    """A signed-in user of the test's tenant, in no group."""
    return common_pb2.Principal(tenant=tenant, user_id="user-1")


@pytest.fixture
def make_document(tenant: str) -> Callable[..., dict[str, object]]:
    """Builds documents.submitted.v1 payloads of the test's tenant."""

    def make(doc_id: str, text: str, **fields: object) -> dict[str, object]:
        return {"tenant": tenant, "id": doc_id, "title": doc_id.title(), "text": text, **fields}

    return make


@pytest.fixture
def read_log(stack: Stack) -> Callable[[str], str]:
    """Everything a component has logged so far."""

    def read(component: str) -> str:
        return Path(stack.config.logs_dir / f"{component}.log").read_text(errors="replace")

    return read
