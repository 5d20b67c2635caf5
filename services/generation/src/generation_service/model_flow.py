"""The model half of the ask flow: stream a model's answer under the output guardrail.

Tokens go to the caller as they come. The output guardrail judges the text at each sentence end
while streaming and the whole text at the end; a block stops the model and ends the stream with
a refusal marked `retracted`, carrying the guardrail's reasons.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from contracts.rpc import assistant_pb2, common_pb2, guardrail_pb2
from generation_service.core import cost_usd
from generation_service.llm import NOT_FOUND, ContextPassage, ModelAnswer
from platform_logging import current_trace_id, get_logger

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from generation_service.adapters import AnswerCache, Peers
    from generation_service.core import AskInput, ModelPrice, Prompt, Route
    from generation_service.llm import ModelEngine

_log = get_logger(__name__)
UNGROUNDED_ANSWER = "I could not produce an answer that your documents support."
# Where the output guardrail looks at a streamed answer: after each finished sentence.
_SENTENCE_END = re.compile(r"[.!?](\s|$)|\n")


@dataclass
class ModelFlow:
    """One model answer: its inputs, collaborators and what it measured."""

    peers: Peers
    cache: AnswerCache
    engine: ModelEngine
    prices: Mapping[str, ModelPrice]
    ask: AskInput
    prompt: Prompt
    route: Route
    question: str
    passages: list[common_pb2.Passage]
    flags: list[str]
    timings: common_pb2.Timings
    started: float
    #: True when the answer may be cached (found, not blocked).
    cacheable: bool = field(default=False, init=False)

    async def run(self) -> AsyncIterator[str | assistant_pb2.AskResponse]:
        """Deltas, then the AskResponse."""
        principal = common_pb2.Principal(
            tenant=self.ask.tenant, user_id=self.ask.user_id, groups=self.ask.groups
        )
        context = [ContextPassage(p.text, p.score) for p in self.passages]
        mark = time.perf_counter()
        streamed = ""
        checked_upto = 0
        answer: ModelAnswer | None = None
        blocked: list[str] = []
        stream = self.engine.stream(
            self.prompt,
            question=self.question,
            passages=context,
            user_context=self.ask.user_context,
        )
        async with contextlib.aclosing(stream):
            async for item in stream:
                if isinstance(item, ModelAnswer):
                    answer = item
                    break
                if not streamed:
                    self.timings.time_to_first_token_ms = _ms(self.started)
                streamed += item
                yield item
                if _SENTENCE_END.search(streamed, checked_upto) and not _declining(streamed):
                    checked_upto = len(streamed)
                    blocked = await self._check(principal, streamed, self.passages)
                    if blocked:
                        break  # leaving the stream cancels the model's request
        self.timings.generation_ms = _ms(mark)
        if blocked or answer is None:
            yield await self._refuse(blocked or ["incomplete"], retracted=bool(streamed))
            return
        if answer.model_started is not None:
            self.timings.before_model_ms = round((answer.model_started - self.started) * 1000, 2)
        cited = [self.passages[i] for i in answer.cited]
        if answer.model_called and answer.text != NOT_FOUND:
            mark = time.perf_counter()
            # Judged against what it cites; an answer citing nothing against all it was shown.
            support = cited or [self.passages[i] for i in answer.context]
            blocked = await self._check(principal, answer.text, support)
            self.timings.guardrail_output_ms = _ms(mark)
            if blocked:
                # The model ran to the end: its tokens are spent, and counted, all the same.
                yield await self._refuse(blocked, retracted=True, answer=answer)
                return
        yield await self._respond(answer, cited)

    async def _check(
        self, principal: common_pb2.Principal, text: str, passages: list[common_pb2.Passage]
    ) -> list[str]:
        """The guardrail's reasons when it blocks `text`, else [] (redactions are noted)."""
        verdict = await self.peers.guardrail.CheckOutput(
            guardrail_pb2.CheckOutputRequest(
                principal=principal, question=self.question, answer=text, passages=passages
            )
        )
        reasons = [f.category for f in verdict.findings]
        if verdict.decision == guardrail_pb2.DECISION_BLOCK:
            _log.info("answer_blocked", flags=reasons, streamed_chars=len(text))
            return reasons or ["blocked"]
        return []

    async def _usage(self, answer: ModelAnswer | None) -> common_pb2.Usage:
        """The engine's own counts and their price, summed for the tenant; none without an
        answer (a stream stopped early: the engine reports no counts for it)."""
        usage = common_pb2.Usage(model=self.engine.client.model)
        if answer is None:
            return usage
        usage.prompt_tokens = answer.usage.prompt_tokens
        usage.completion_tokens = answer.usage.completion_tokens
        usage.cost_usd = cost_usd(
            self.prices,
            usage.model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )
        await self.cache.add_usage(
            self.ask.tenant,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
        )
        return usage

    async def _respond(
        self, answer: ModelAnswer, cited: list[common_pb2.Passage]
    ) -> assistant_pb2.AskResponse:
        usage = await self._usage(answer)
        flags = self.flags + (["citation.invalid_marker"] if answer.invalid_markers else [])
        response = assistant_pb2.AskResponse(
            answer_id=str(uuid.uuid4()),
            answer=answer.text,
            citations=[
                common_pb2.Citation(
                    marker=marker,
                    chunk_id=p.chunk_id,
                    document_id=p.document_id,
                    title=p.title,
                    source=p.source,
                    snippet=p.text[:300],
                    heading=p.heading,
                    page=p.page,
                    start=p.start,
                    end=p.end,
                )
                for marker, p in zip(answer.markers, cited, strict=True)
            ],
            usage=usage,
            guardrail_flags=flags,
            prompt_version=self.prompt.key,
            route=self.route.name.value,
            route_reason=self.route.reason,
        )
        # "Not found" is not cached: the documents may arrive any moment.
        self.cacheable = answer.model_called and answer.text != NOT_FOUND
        await self.cache.remember_answer(response.answer_id, self.ask.tenant)
        _log.info(
            "answer_generated",
            answer_id=response.answer_id,
            prompt_version=self.prompt.key,
            model=usage.model,
            citations=len(cited),
            invalid_markers=len(answer.invalid_markers),
            dropped_passages=len(answer.dropped),
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
            time_to_first_token_ms=self.timings.time_to_first_token_ms or None,
            before_model_ms=self.timings.before_model_ms or None,
        )
        return self._finish(response)

    async def _refuse(
        self, reasons: list[str], *, retracted: bool, answer: ModelAnswer | None = None
    ) -> assistant_pb2.AskResponse:
        response = assistant_pb2.AskResponse(
            answer_id=str(uuid.uuid4()),
            answer=UNGROUNDED_ANSWER,
            guardrail_flags=self.flags + reasons,
            prompt_version=self.prompt.key,
            usage=await self._usage(answer),
            route=self.route.name.value,
            route_reason=self.route.reason,
            retracted=retracted,
        )
        await self.cache.remember_answer(response.answer_id, self.ask.tenant)
        return self._finish(response)

    def _finish(self, response: assistant_pb2.AskResponse) -> assistant_pb2.AskResponse:
        self.timings.total_ms = _ms(self.started)
        response.timings.CopyFrom(self.timings)
        response.trace_id = current_trace_id() or ""
        return response


def _declining(streamed: str) -> bool:
    """Whether the text so far is empty or the prompt's decline: a decline claims nothing, so
    there is nothing to ground (the finished answer skips the check for the same reason)."""
    return NOT_FOUND.startswith(streamed.strip())


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
