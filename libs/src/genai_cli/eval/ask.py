"""Questions through the public API (Assistant.Ask), timed, for one prompt version and route.

Each answer keeps what the scoring needs: its text, route, latency, cost, and for each
citation the cited document and the full text of the cited passage (Assistant.GetPassage,
outside the timed call, once per chunk).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import grpc
from tqdm import tqdm

from contracts.rpc import assistant_pb2, assistant_pb2_grpc, common_pb2
from genai_cli.errors import CliError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ("AskedAnswer", "Asker", "RunSpec")

_DEADLINE_S = 300.0  # a model answer on a busy 2-CPU machine can take a minute


@dataclass(frozen=True)
class RunSpec:
    """Who asks, with which prompt version and routing policy."""

    tenant: str
    groups: tuple[str, ...]
    prompt_version: str
    route: str


@dataclass(frozen=True)
class AskedAnswer:
    """One question's answer as the scoring needs it."""

    question_id: str
    text: str
    #: Citation marker -> (document id, full text of the cited passage).
    citations: dict[int, tuple[str, str]]
    route: str
    prompt_version: str
    latency_ms: float
    cost_usd: float
    flags: list[str] = field(default_factory=list)


class Asker:
    """One channel to the Assistant; answers questions and looks up cited passages."""

    def __init__(self, address: str) -> None:
        self._channel = grpc.insecure_channel(address)
        self._stub = assistant_pb2_grpc.AssistantStub(self._channel)
        self._passages: dict[tuple[str, str], str] = {}

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def prompt_versions(self) -> list[tuple[str, list[str], str]]:
        """(version, labels, model) of every prompt the server answers with."""
        try:
            listed = self._stub.ListPrompts(assistant_pb2.ListPromptsRequest(), timeout=30)
        except grpc.RpcError as error:
            raise CliError(f"ListPrompts failed: {error.code().name}: {error.details()}") from error
        return [(p.version, list(p.labels), p.model) for p in listed.prompts]

    def run(self, spec: RunSpec, questions: Sequence[tuple[str, str]]) -> list[AskedAnswer]:
        """Ask (question id, text) pairs one at a time; one untimed warm-up call first."""
        if not questions:
            return []
        self._ask(spec, questions[0][1])  # warm-up: connection, model load
        answers = []
        label = f"{spec.prompt_version}/{spec.route}"
        for question_id, text in tqdm(
            questions, desc=label, unit="question", file=sys.stderr, disable=None
        ):
            started = time.perf_counter()
            response = self._ask(spec, text)
            latency_ms = (time.perf_counter() - started) * 1000
            answers.append(
                AskedAnswer(
                    question_id=question_id,
                    text=response.answer,
                    citations={
                        c.marker: (c.document_id, self._passage(spec, c))
                        for c in response.citations
                    },
                    route=response.route,
                    prompt_version=response.prompt_version,
                    latency_ms=latency_ms,
                    cost_usd=response.usage.cost_usd,
                    flags=list(response.guardrail_flags),
                )
            )
        return answers

    def _ask(self, spec: RunSpec, text: str) -> assistant_pb2.AskResponse:
        request = assistant_pb2.AskRequest(
            principal=_principal(spec),
            question=text,
            # "policy" pins nothing: the server's routing policy chooses per question.
            prompt_version="" if spec.prompt_version == "policy" else spec.prompt_version,
            route=spec.route,
            # Every answer is produced, never read back: latency and cost are a fresh answer's.
            bypass_cache=True,
        )
        try:
            return self._stub.Ask(request, timeout=_DEADLINE_S)
        except grpc.RpcError as error:
            raise CliError(
                f"Ask ({spec.prompt_version}, route {spec.route}) failed: "
                f"{error.code().name}: {error.details()}"
            ) from error

    def _passage(self, spec: RunSpec, citation: common_pb2.Citation) -> str:
        key = (spec.tenant, citation.chunk_id)
        if key not in self._passages:
            try:
                found = self._stub.GetPassage(
                    assistant_pb2.GetPassageRequest(
                        principal=_principal(spec), chunk_id=citation.chunk_id
                    ),
                    timeout=30,
                )
                self._passages[key] = found.passage.text
            except grpc.RpcError:
                # Gone since it was cited (a re-ingest): judge the sentence by its snippet.
                self._passages[key] = citation.snippet
        return self._passages[key]


def _principal(spec: RunSpec) -> common_pb2.Principal:
    return common_pb2.Principal(tenant=spec.tenant, user_id="eval", groups=list(spec.groups))
