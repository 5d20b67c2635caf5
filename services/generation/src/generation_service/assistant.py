"""The ask flow: guardrail in, cache, retrieval, engine, guardrail out, cache.

Orchestration only; every side effect goes through an adapter.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from contracts.rpc import assistant_pb2, common_pb2, guardrail_pb2, retrieval_pb2
from generation_service.core import (
    NO_ANSWER,
    RouteName,
    SourcePassage,
    answer_cache_key,
    choose_route,
)
from platform_grpc import InvalidArgument, NotFound
from platform_logging import current_trace_id, get_logger

if TYPE_CHECKING:
    from collections.abc import Mapping

    from generation_service.adapters import AnswerCache, Peers
    from generation_service.core import AnswerEngine, AskInput, FeedbackTarget, Route

_log = get_logger(__name__)
BLOCKED_ANSWER = "I can't help with that request."
NO_CALCULATION = "I found no calculation to compute in that question."
#: Recorded as the prompt version of computed answers: no template, no model.
CALCULATOR_VERSION = "calculator@1"
UNGROUNDED_ANSWER = "I could not produce an answer that your documents support."


class Assistant:
    """Answers questions and forwards feedback."""

    def __init__(
        self, *, peers: Peers, cache: AnswerCache, engines: Mapping[str, AnswerEngine]
    ) -> None:
        self._peers = peers
        self._cache = cache
        self._engines = dict(engines)

    async def ask(self, ask: AskInput) -> assistant_pb2.AskResponse:
        """One answer, from the cache when the same question was answered before."""
        engine = self._engines.get(ask.prompt_version)
        if engine is None:
            raise InvalidArgument.field(
                "prompt_version", f"unknown; available: {', '.join(sorted(self._engines))}"
            )
        started = time.perf_counter()
        timings = common_pb2.Timings()
        principal = _principal(ask)

        checked = await self._peers.guardrail.CheckInput(
            guardrail_pb2.CheckInputRequest(principal=principal, text=ask.question)
        )
        timings.guardrail_input_ms = _ms(started)
        flags = [f.category for f in checked.findings]
        if checked.decision == guardrail_pb2.DECISION_BLOCK:
            _log.info("question_blocked", flags=flags)
            return await self._refuse(BLOCKED_ANSWER, flags, ask, timings, started)
        question = checked.text or ask.question
        route = choose_route(question, ask.route)
        _log.info("question_routed", route=route.name.value, reason=route.reason)
        if route.name is RouteName.CALCULATOR:
            return await self._compute(route, flags, ask, timings, started)

        key = answer_cache_key(ask.model_copy(update={"question": question}))
        if not ask.bypass_cache and (hit := await self._cache.get(key, tenant=ask.tenant)):
            response = assistant_pb2.AskResponse.FromString(hit)
            response.cached = True
            _log.info("answer_from_cache", answer_id=response.answer_id)
            return self._finish(response, timings, started)

        mark = time.perf_counter()
        retrieval_started_ms = time.time_ns() // 1_000_000
        retrieved = await self._peers.retrieval.Retrieve(
            retrieval_pb2.RetrieveRequest(
                principal=principal,
                query=question,
                top_k=ask.top_k,
                filters=ask.filters,
                fusion=ask.fusion,  # type: ignore[arg-type] - a validated FusionMethod value
                dense_weight=ask.dense_weight,
            )
        )
        timings.retrieval_ms = _ms(mark)
        passages = list(retrieved.passages)

        mark = time.perf_counter()
        answer = await engine.answer(
            question, [SourcePassage(p.chunk_id, p.title, p.text) for p in passages]
        )
        timings.generation_ms = _ms(mark)

        mark = time.perf_counter()
        cited = [passages[i] for i in answer.cited]
        verdict = await self._peers.guardrail.CheckOutput(
            guardrail_pb2.CheckOutputRequest(
                principal=principal, question=question, answer=answer.text, passages=cited
            )
        )
        timings.guardrail_output_ms = _ms(mark)
        flags += [f.category for f in verdict.findings]
        if verdict.decision == guardrail_pb2.DECISION_BLOCK:
            _log.info("answer_blocked", flags=flags)
            return await self._refuse(UNGROUNDED_ANSWER, flags, ask, timings, started)

        response = assistant_pb2.AskResponse(
            answer_id=str(uuid.uuid4()),
            answer=verdict.text or answer.text,
            citations=[
                common_pb2.Citation(
                    marker=n,
                    chunk_id=p.chunk_id,
                    document_id=p.document_id,
                    title=p.title,
                    source=p.source,
                    snippet=answer.snippets.get(answer.cited[n - 1], ""),
                    heading=p.heading,
                    page=p.page,
                    start=p.start,
                    end=p.end,
                )
                for n, p in enumerate(cited, start=1)
            ],
            usage=common_pb2.Usage(
                prompt_tokens=answer.prompt_tokens,
                completion_tokens=answer.completion_tokens,
                cost_usd=0.0,
                model=answer.model,
            ),
            guardrail_flags=flags,
            prompt_version=ask.prompt_version,
            route=route.name.value,
            route_reason=route.reason,
        )
        # An answer that found nothing is not cached: the documents may arrive any moment.
        if answer.text != NO_ANSWER:
            await self._cache.put(
                key, response.SerializeToString(), computed_ms=retrieval_started_ms
            )
        await self._cache.remember_answer(response.answer_id, ask.tenant)
        _log.info("answer_generated", answer_id=response.answer_id, citations=len(cited))
        return self._finish(response, timings, started)

    async def search(self, request: assistant_pb2.SearchRequest) -> assistant_pb2.SearchResponse:
        """Hybrid search through retrieval, which validates and enforces access."""
        retrieved = await self._peers.retrieval.Retrieve(
            retrieval_pb2.RetrieveRequest(
                principal=request.principal,
                query=request.query,
                top_k=request.top_k,
                filters=request.filters,
                fusion=request.fusion,
                dense_weight=(request.dense_weight if request.HasField("dense_weight") else None),
            )
        )
        return assistant_pb2.SearchResponse(
            passages=retrieved.passages, trace_id=current_trace_id() or ""
        )

    async def submit_feedback(
        self, target: FeedbackTarget, request: assistant_pb2.SubmitFeedbackRequest
    ) -> assistant_pb2.SubmitFeedbackResponse:
        """Forward feedback on an answer this tenant received; feedback validates the rest."""
        tenant = await self._cache.answer_tenant(target.answer_id)
        if tenant is None or tenant != target.tenant:
            # The same status for "never existed" and "another tenant's": no probing.
            raise NotFound(f"answer {target.answer_id!r} not found (or feedback window closed)")
        return await self._peers.feedback.RecordFeedback(request)

    async def _compute(
        self,
        route: Route,
        flags: list[str],
        ask: AskInput,
        timings: common_pb2.Timings,
        started: float,
    ) -> assistant_pb2.AskResponse:
        """The calculator's exact result, worded by a template: no model, no documents.

        Nothing in it comes from a document, so there is nothing to ground or cite, and it
        costs nothing to recompute, so it is not cached.
        """
        mark = time.perf_counter()
        text = route.calculation.worded() if route.calculation else NO_CALCULATION
        timings.generation_ms = _ms(mark)
        response = assistant_pb2.AskResponse(
            answer_id=str(uuid.uuid4()),
            answer=text,
            guardrail_flags=flags,
            prompt_version=CALCULATOR_VERSION,
            usage=common_pb2.Usage(model="calculator"),
            route=route.name.value,
            route_reason=route.reason,
        )
        await self._cache.remember_answer(response.answer_id, ask.tenant)
        _log.info("answer_computed", answer_id=response.answer_id)
        return self._finish(response, timings, started)

    async def _refuse(
        self,
        text: str,
        flags: list[str],
        ask: AskInput,
        timings: common_pb2.Timings,
        started: float,
    ) -> assistant_pb2.AskResponse:
        """A refusal with its reasons; feedback on it is accepted like on any answer."""
        response = _refusal(text, flags, ask)
        await self._cache.remember_answer(response.answer_id, ask.tenant)
        return self._finish(response, timings, started)

    @staticmethod
    def _finish(
        response: assistant_pb2.AskResponse, timings: common_pb2.Timings, started: float
    ) -> assistant_pb2.AskResponse:
        timings.total_ms = _ms(started)
        response.timings.CopyFrom(timings)
        response.trace_id = current_trace_id() or ""
        return response


def _principal(ask: AskInput) -> common_pb2.Principal:
    return common_pb2.Principal(tenant=ask.tenant, user_id=ask.user_id, groups=ask.groups)


def _refusal(text: str, flags: list[str], ask: AskInput) -> assistant_pb2.AskResponse:
    return assistant_pb2.AskResponse(
        answer_id=str(uuid.uuid4()),
        answer=text,
        guardrail_flags=flags,
        prompt_version=ask.prompt_version,
        usage=common_pb2.Usage(model="none"),
    )


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
