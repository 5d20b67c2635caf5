"""The ask flow: guardrail in, routing, cache, retrieval, engine, guardrail out, cache.

Orchestration only; every side effect goes through an adapter. `ask_stream` is the flow; it
yields a model's text as it is generated and ends with the AskResponse, and `ask` keeps only
the response.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import TYPE_CHECKING

from contracts.rpc import assistant_pb2, common_pb2, guardrail_pb2, retrieval_pb2
from generation_service.cache_flow import CacheFlow
from generation_service.core import (
    NO_ANSWER,
    AnswerStats,
    EngineKind,
    RouteName,
    SourcePassage,
    TierPolicy,
    choose_prompt,
    choose_route,
    model_key,
)
from generation_service.model_flow import ModelFlow
from platform_grpc import InvalidArgument, NotFound
from platform_logging import current_trace_id, get_logger

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from generation_service.adapters import AnswerCache, Peers
    from generation_service.cache_flow import CacheLookup
    from generation_service.core import (
        AnswerEngine,
        AskInput,
        FeedbackTarget,
        ModelPrice,
        Prompt,
        PromptRegistry,
        Route,
    )
    from generation_service.llm import ModelEngine

_log = get_logger(__name__)
BLOCKED_ANSWER = "I can't help with that request."
NO_CALCULATION = "I found no calculation to compute in that question."
#: Recorded as the prompt version of computed answers: no template, no model.
CALCULATOR_VERSION = "calculator@1"
UNGROUNDED_ANSWER = "I could not produce an answer that your documents support."


class Assistant:
    """Answers questions and forwards feedback."""

    def __init__(
        self,
        *,
        peers: Peers,
        cache: AnswerCache,
        prompts: PromptRegistry,
        extractive: Mapping[str, AnswerEngine],
        models: Mapping[tuple[EngineKind, str], ModelEngine],
        prices: Mapping[str, ModelPrice],
        default_prompt: str = "production",
        tiers: TierPolicy | None = None,
        caching: CacheFlow | None = None,
    ) -> None:
        self._peers = peers
        self._cache = cache
        #: Exact and semantic lookups and the cache's economics (exact only when not given).
        self._caching = caching or CacheFlow(cache=cache)
        self._prompts = prompts
        #: Extractive engines by the `model` their prompt files name.
        self._extractive = dict(extractive)
        #: Model engines by `model_key(prompt)`: (engine kind, model name).
        self._models = dict(models)
        self._prices = dict(prices)
        self._default_prompt = default_prompt
        self._tiers = tiers or TierPolicy()
        self._stats = AnswerStats()

    @property
    def prompts(self) -> PromptRegistry:
        """The prompt versions this assistant answers with."""
        return self._prompts

    async def ask(self, ask: AskInput) -> assistant_pb2.AskResponse:
        """One answer, from the cache when the same question was answered before."""
        async for event in self.ask_stream(ask):
            if isinstance(event, assistant_pb2.AskResponse):
                return event
        raise RuntimeError("the ask flow ended without a response")  # a bug, never expected

    async def ask_stream(self, ask: AskInput) -> AsyncIterator[str | assistant_pb2.AskResponse]:
        """A model's text as it is generated, then the AskResponse (always the last item)."""
        lookups: list[CacheLookup] = []
        async for event in self._answer(ask, lookups):
            if isinstance(event, assistant_pb2.AskResponse):
                # Every answer says whether the cache served it and what it cost or saved.
                await self._caching.settle(
                    event, lookups[0] if lookups else None, tenant=ask.tenant
                )
            yield event

    async def _answer(
        self, ask: AskInput, lookups: list[CacheLookup]
    ) -> AsyncIterator[str | assistant_pb2.AskResponse]:
        """The flow of `ask_stream`; the cache lookup it made, if any, goes into `lookups`."""
        pinned = ask.prompt_version
        # The pinned prompt, or the default until the route is known (refusals record it).
        prompt = self._prompts.resolve(pinned or self._default_prompt)
        if prompt is None:
            raise InvalidArgument.field(
                "prompt_version", f"unknown {pinned!r}; {self._prompts.known()}"
            )
        ask = ask.model_copy(update={"prompt_version": prompt.key})
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
            yield await self._refuse(BLOCKED_ANSWER, flags, ask, timings, started)
            return
        question = checked.text or ask.question
        route = choose_route(question, ask.route)
        _log.info("question_routed", route=route.name.value, reason=route.reason)
        if route.name is RouteName.CALCULATOR:
            yield await self._compute(route, flags, ask, timings, started)
            return
        if not pinned and self._tiers.enabled:
            prompt, route = self._choose_tier(question, ask, route)
            ask = ask.model_copy(update={"prompt_version": prompt.key})

        lookup = await self._caching.find(ask.model_copy(update={"question": question}))
        lookups.append(lookup)
        if lookup.hit is not None:
            _log.info("answer_from_cache", answer_id=lookup.hit.answer_id)
            yield self._finish(lookup.hit, timings, started)
            return

        mark = time.perf_counter()
        retrieval_started_ms = time.time_ns() // 1_000_000
        retrieved = await self._peers.retrieval.Retrieve(
            retrieval_pb2.RetrieveRequest(
                principal=principal,
                query=question,
                top_k=ask.top_k,
                filters=ask.filters,
                typed_filters=ask.metadata_filters(),
                fusion=ask.fusion,  # type: ignore[arg-type] - a validated FusionMethod value
                dense_weight=ask.dense_weight,
                rerank=ask.rerank,  # type: ignore[arg-type] - a validated RerankMode value
            )
        )
        timings.retrieval_ms = _ms(mark)
        passages = list(retrieved.passages)
        if prompt.engine is not EngineKind.EXTRACTIVE:
            flow = ModelFlow(
                peers=self._peers,
                cache=self._cache,
                engine=self._models[model_key(prompt)],
                prices=self._prices,
                ask=ask,
                prompt=prompt,
                route=route,
                question=question,
                passages=passages,
                flags=flags,
                timings=timings,
                started=started,
            )
            async for event in flow.run():
                if isinstance(event, assistant_pb2.AskResponse):
                    self._record(prompt, event)
                    if flow.cacheable:
                        await self._caching.keep(lookup, event, computed_ms=retrieval_started_ms)
                    yield event
                    return
                yield event
            return

        mark = time.perf_counter()
        answer = await self._extractive[prompt.model].answer(
            question, [SourcePassage(p.chunk_id, p.title, p.text) for p in passages]
        )
        timings.generation_ms = _ms(mark)
        self._stats.record(
            prompt.key, latency_ms=timings.generation_ms, prompt_tokens=answer.prompt_tokens
        )

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
            refusal = await self._refuse(UNGROUNDED_ANSWER, flags, ask, timings, started)
            # The path was chosen before the answer was withheld: record it and why.
            refusal.route, refusal.route_reason = route.name.value, route.reason
            yield refusal
            return

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
        # Finished first, so that the cached copy records the time it took.
        response = self._finish(response, timings, started)
        # An answer that found nothing is not cached: the documents may arrive any moment.
        if answer.text != NO_ANSWER:
            await self._caching.keep(lookup, response, computed_ms=retrieval_started_ms)
        await self._cache.remember_answer(response.answer_id, ask.tenant)
        await self._cache.add_usage(
            ask.tenant,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            cost_usd=0.0,
        )
        _log.info(
            "answer_generated",
            answer_id=response.answer_id,
            prompt_version=ask.prompt_version,
            citations=len(cited),
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            cost_usd=0.0,
        )
        yield response  # finished above: its time is the one the cached copy records

    def _choose_tier(self, question: str, ask: AskInput, route: Route) -> tuple[Prompt, Route]:
        """The routing policy's prompt for an unpinned question, and the route with why."""
        choice = choose_prompt(
            question,
            pinned="",
            default=self._default_prompt,
            policy=self._tiers,
            prompts=self._prompts,
            budget=ask.budget(),
            stats=self._stats,
            prices=self._prices,
            served_model=self._served_model,
        )
        assert choice is not None  # only a pinned prompt can be unknown
        _log.info("prompt_chosen", prompt_version=choice.prompt.key, reason=choice.reason)
        return choice.prompt, dataclasses.replace(route, reason=f"{route.reason}; {choice.reason}")

    def _served_model(self, prompt: Prompt) -> str:
        """The model name a prompt's answers are priced under."""
        engine = self._models.get(model_key(prompt))
        return engine.client.model if engine is not None else prompt.model

    def _record(self, prompt: Prompt, response: assistant_pb2.AskResponse) -> None:
        """Fold a model answer's generation time into the routing estimates."""
        if response.usage.prompt_tokens:  # a model ran (not "not found", not a refusal)
            self._stats.record(
                prompt.key,
                latency_ms=response.timings.generation_ms,
                prompt_tokens=response.usage.prompt_tokens,
            )

    async def get_passage(
        self, request: assistant_pb2.GetPassageRequest
    ) -> assistant_pb2.GetPassageResponse:
        """A cited chunk and its neighbours; retrieval enforces tenant and groups."""
        found = await self._peers.retrieval.GetChunk(
            retrieval_pb2.GetChunkRequest(principal=request.principal, chunk_id=request.chunk_id)
        )
        response = assistant_pb2.GetPassageResponse(passage=found.passage)
        if found.HasField("previous"):
            response.previous.CopyFrom(found.previous)
        if found.HasField("next"):
            response.next.CopyFrom(found.next)
        return response

    async def search(self, request: assistant_pb2.SearchRequest) -> assistant_pb2.SearchResponse:
        """Hybrid search through retrieval, which validates and enforces access."""
        retrieved = await self._peers.retrieval.Retrieve(
            retrieval_pb2.RetrieveRequest(
                principal=request.principal,
                query=request.query,
                top_k=request.top_k,
                filters=request.filters,
                typed_filters=request.typed_filters,
                facet_fields=request.facet_fields,
                facet_limit=request.facet_limit,
                fusion=request.fusion,
                dense_weight=(request.dense_weight if request.HasField("dense_weight") else None),
                rerank=request.rerank,
            )
        )
        return assistant_pb2.SearchResponse(
            passages=retrieved.passages,
            trace_id=current_trace_id() or "",
            facets=retrieved.facets,
            rerank=retrieved.rerank,
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
