"""gRPC Assistant: the public API. Validation here, the flow in `assistant`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from google.protobuf.json_format import MessageToDict

from contracts.rpc import assistant_pb2, assistant_pb2_grpc
from generation_service.core import AskInput, FeedbackTarget, PassageTarget
from platform_grpc import PRINCIPAL_FIELDS, validated

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import grpc

    from generation_service.assistant import Assistant

# Pieces of about a word each, whitespace kept, so clients can render as they arrive.
_DELTA = re.compile(r"\S+\s*")


class AssistantServicer(assistant_pb2_grpc.AssistantServicer):
    """Ask (unary and streaming), Search, SubmitFeedback, ListPrompts, GetPassage."""

    def __init__(self, *, assistant: Assistant, default_top_k: int) -> None:
        self._assistant = assistant
        self._default_top_k = default_top_k

    async def Ask(  # noqa: N802 - generated name
        self, request: assistant_pb2.AskRequest, context: grpc.aio.ServicerContext
    ) -> assistant_pb2.AskResponse:
        """Answer in one response."""
        return await self._assistant.ask(self._validate(request))

    async def AskStream(  # noqa: N802 - generated name
        self, request: assistant_pb2.AskRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[assistant_pb2.AskStreamEvent]:
        """Answer as text deltas, then the completed answer with citations, usage, timings.

        A model's tokens are sent as it generates them, under the output guardrail at each
        sentence end (a block ends the stream with a `retracted` refusal). Answers that are
        whole at once (extractive, cached, computed, refused) are sent as word deltas.
        """
        streamed = False
        async for event in self._assistant.ask_stream(self._validate(request)):
            if isinstance(event, str):
                streamed = True
                yield assistant_pb2.AskStreamEvent(delta=event)
                continue
            if not streamed and not event.retracted:
                for piece in _DELTA.findall(event.answer):
                    yield assistant_pb2.AskStreamEvent(delta=piece)
            yield assistant_pb2.AskStreamEvent(completed=event)

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

    async def ListPrompts(  # noqa: N802 - generated name
        self, request: assistant_pb2.ListPromptsRequest, context: grpc.aio.ServicerContext
    ) -> assistant_pb2.ListPromptsResponse:
        """The prompt versions served here, with their labels."""
        prompts = self._assistant.prompts
        return assistant_pb2.ListPromptsResponse(
            prompts=[
                assistant_pb2.PromptInfo(
                    version=p.key,
                    labels=prompts.labels_of(p.key),
                    engine=p.engine.value,
                    model=p.model,
                    description=p.description,
                )
                for p in prompts
            ]
        )

    async def GetPassage(  # noqa: N802 - generated name
        self, request: assistant_pb2.GetPassageRequest, context: grpc.aio.ServicerContext
    ) -> assistant_pb2.GetPassageResponse:
        """A cited passage and its neighbours in the same document."""
        validated(
            PassageTarget,
            {"tenant": request.principal.tenant, "chunk_id": request.chunk_id},
            request_fields=PRINCIPAL_FIELDS,
        )
        return await self._assistant.get_passage(request)

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
                "typed_filters": [
                    MessageToDict(f, preserving_proto_field_name=True)
                    for f in request.typed_filters
                ],
                "bypass_cache": request.bypass_cache,
                "prompt_version": request.prompt_version,
                "max_cost_usd": (
                    request.budget.max_cost_usd if request.budget.HasField("max_cost_usd") else None
                ),
                "max_latency_ms": (
                    request.budget.max_latency_ms
                    if request.budget.HasField("max_latency_ms")
                    else None
                ),
                "route": request.route or "auto",
                "fusion": request.fusion,
                "rerank": request.rerank,
                "dense_weight": (
                    request.dense_weight if request.HasField("dense_weight") else None
                ),
                "user_context": (
                    _user_context(request.user_context)
                    if request.HasField("user_context")
                    else None
                ),
            },
            request_fields=PRINCIPAL_FIELDS,
        )


def _user_context(context: assistant_pb2.UserContext) -> dict[str, object]:
    return {
        "current_page": context.current_page,
        "recent_turns": [{"role": t.role, "text": t.text} for t in context.recent_turns],
        "locale": context.locale,
    }
