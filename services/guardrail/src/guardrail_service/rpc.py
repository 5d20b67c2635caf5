"""gRPC Guardrail: verdicts on questions and answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.rpc import guardrail_pb2, guardrail_pb2_grpc
from guardrail_service.core import Decision, GuardrailPolicy, Verdict, check_input, check_output
from platform_grpc import InvalidArgument

if TYPE_CHECKING:
    import grpc

_DECISIONS = {
    Decision.ALLOW: guardrail_pb2.DECISION_ALLOW,
    Decision.REDACT: guardrail_pb2.DECISION_REDACT,
    Decision.BLOCK: guardrail_pb2.DECISION_BLOCK,
}


class GuardrailServicer(guardrail_pb2_grpc.GuardrailServicer):
    """Applies one policy to inputs and outputs."""

    def __init__(self, *, policy: GuardrailPolicy, max_text_chars: int) -> None:
        self._policy = policy
        self._max_text_chars = max_text_chars

    async def CheckInput(  # noqa: N802 - generated name
        self, request: guardrail_pb2.CheckInputRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.GuardrailVerdict:
        """Verdict on a question."""
        self._check_size("text", request.text)
        return _to_proto(check_input(request.text, self._policy))

    async def CheckOutput(  # noqa: N802 - generated name
        self, request: guardrail_pb2.CheckOutputRequest, context: grpc.aio.ServicerContext
    ) -> guardrail_pb2.GuardrailVerdict:
        """Verdict on an answer, given the passages it was built from."""
        self._check_size("answer", request.answer)
        passages = [p.text for p in request.passages]
        return _to_proto(check_output(request.answer, passages, self._policy))

    def _check_size(self, name: str, text: str) -> None:
        if len(text) > self._max_text_chars:
            raise InvalidArgument.field(name, f"longer than {self._max_text_chars} characters")


def _to_proto(verdict: Verdict) -> guardrail_pb2.GuardrailVerdict:
    return guardrail_pb2.GuardrailVerdict(
        decision=_DECISIONS[verdict.decision],
        text=verdict.text,
        findings=[
            guardrail_pb2.Finding(category=f.category, detail=f.detail, score=f.score)
            for f in verdict.findings
        ],
        groundedness=verdict.groundedness,
    )
