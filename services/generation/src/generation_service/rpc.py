"""gRPC Assistant: the public API. Validation here, the flow in `assistant`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from contracts.rpc import assistant_pb2, assistant_pb2_grpc
from generation_service.core import AskInput, FeedbackTarget
from platform_grpc import PRINCIPAL_FIELDS, validated

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import grpc

    from generation_service.assistant import Assistant

# Pieces of about a word each, whitespace kept, so clients can render as they arrive.
_DELTA = re.compile(r"\S+\s*")


class AssistantServicer(assistant_pb2_grpc.AssistantServicer):
    """Ask (unary and streaming), Search, SubmitFeedback."""

    def __init__(self, *, assistant: Assistant, default_top_k: int, prompt_version: str) -> None:
        self._assistant = assistant
        self._default_top_k = default_top_k
        self._prompt_version = prompt_version

    async def Ask(  # noqa: N802 - generated name
        self, request: assistant_pb2.AskRequest, context: grpc.aio.ServicerContext
    ) -> assistant_pb2.AskResponse:
        """Answer in one response."""
        return await self._assistant.ask(self._validate(request))

    async def AskStream(  # noqa: N802 - generated name
        self, request: assistant_pb2.AskRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[assistant_pb2.AskStreamEvent]:
        """Answer as text deltas, then the completed answer with citations.

        The output guardrail judges the whole answer before any of it leaves, so
        deltas start once the answer has passed it.
        """
        response = await self._assistant.ask(self._validate(request))
        for piece in _DELTA.findall(response.answer):
            yield assistant_pb2.AskStreamEvent(delta=piece)
        yield assistant_pb2.AskStreamEvent(completed=response)

    async def Search(  # noqa: N802 - generated name
        self, request: assistant_pb2.SearchRequest, context: grpc.aio.ServicerContext
    ) -> assistant_pb2.SearchResponse:
        """Hybrid search without generation."""
        return await self._assistant.search(request)

    async def SubmitFeedback(  # noqa: N802 - generated name
        self, request: assistant_pb2.SubmitFeedbackRequest, context: grpc.aio.ServicerContext
    ) -> assistant_pb2.SubmitFeedbackResponse:
        """Feedback on an answer the caller's tenant received."""
        # The principal first, as every method does: an empty tenant is the
        # caller's mistake (INVALID_ARGUMENT), not an answer we cannot find.
        target = validated(
            FeedbackTarget,
            {
                "tenant": request.principal.tenant,
                "user_id": request.principal.user_id,
                "answer_id": request.answer_id,
            },
            request_fields=PRINCIPAL_FIELDS,
        )
        return await self._assistant.submit_feedback(target, request)

    def _validate(self, request: assistant_pb2.AskRequest) -> AskInput:
        return validated(
            AskInput,
            {
                "tenant": request.principal.tenant,
                "user_id": request.principal.user_id,
                "groups": list(request.principal.groups),
                "question": request.question,
                "top_k": request.top_k or self._default_top_k,
                "filters": dict(request.filters),
                "bypass_cache": request.bypass_cache,
                "prompt_version": request.prompt_version or self._prompt_version,
                "route": request.route or "auto",
                "fusion": request.fusion,
                "dense_weight": (
                    request.dense_weight if request.HasField("dense_weight") else None
                ),
            },
            request_fields=PRINCIPAL_FIELDS,
        )
