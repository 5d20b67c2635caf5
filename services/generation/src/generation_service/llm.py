"""Answers from a language model: relevance cut, packing, prompt assembly, streamed tokens.

The model sees the prompt version's stable prefix, then the passages that fit its window
(counted with its own tokenizer, the weakest dropped first, never cut mid-sentence), the
user's context, the date and the question. Its tokens are streamed with any marker that names
no passage of its context removed.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from generation_service.adapters.models import ModelUsage
from generation_service.core.assembly import (
    number_passages,
    pack,
    request_message,
    sentences,
    shorten,
    stable_messages,
)
from generation_service.core.citations import MarkerFilter, check_markers
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from generation_service.adapters.models import ModelClient
    from generation_service.core.prompts import Prompt
    from generation_service.core.request import UserContext

_log = get_logger(__name__)
NOT_FOUND = "Not found in your documents."
# Chat-template tokens per message (role tags, separators; SmolLM2's ChatML adds 5) and for the
# assistant turn's opening: a margin so packing never overflows the window by the template.
_TEMPLATE_TOKENS_PER_MESSAGE = 8


@dataclass(frozen=True)
class ContextPassage:
    """A retrieved passage offered to the model: its text and retrieval score."""

    text: str
    score: float


@dataclass
class ModelAnswer:
    """The finished answer: text as streamed, context used, citations, counts, timing."""

    text: str
    #: Indexes into the retrieved passages that were in the model's context, in prompt order.
    context: list[int]
    #: Indexes into the retrieved passages cited, in order of first citation; marker [k] cites
    #: context[k-1].
    cited: list[int]
    markers: list[int]
    invalid_markers: list[str]
    usage: ModelUsage
    model_called: bool
    dropped: list[int] = field(default_factory=list)
    #: perf_counter() when the model was called and when its first token arrived.
    model_started: float | None = None
    first_token: float | None = None


class ModelEngine:
    """One model client and the prompts that run on it."""

    def __init__(self, client: ModelClient) -> None:
        self.client = client

    async def stream(
        self,
        prompt: Prompt,
        *,
        question: str,
        passages: Sequence[ContextPassage],
        user_context: UserContext | None,
        today: dt.date | None = None,
    ) -> AsyncIterator[str | ModelAnswer]:
        """Text deltas as the model writes them, then the ModelAnswer."""
        today = today or dt.datetime.now(dt.UTC).date()
        relevant = [i for i, p in enumerate(passages) if p.score > prompt.min_relevance]
        if not relevant:
            # Nothing to ground an answer on: say so, and spend nothing on the model.
            yield ModelAnswer(NOT_FOUND, [], [], [], [], ModelUsage(0, 0, "not_found"), False)
            return
        stable = stable_messages(prompt)
        context, texts, dropped = await self._pack(
            prompt,
            stable,
            question,
            [(passages[i].text, passages[i].score) for i in relevant],
            user_context,
            today,
        )
        context = [relevant[i] for i in context]
        dropped = [relevant[i] for i in dropped]
        if not context:
            yield ModelAnswer(NOT_FOUND, [], [], [], [], ModelUsage(0, 0, "not_found"), False)
            return
        messages = [
            *stable,
            request_message(
                prompt, passages=texts, question=question, user_context=user_context, today=today
            ),
        ]
        started = time.perf_counter()
        first: float | None = None
        shown: list[str] = []
        raw: list[str] = []
        markers = MarkerFilter(context_size=len(context))
        usage = ModelUsage(0, 0, "")
        async for item in self.client.stream(
            messages, max_tokens=prompt.max_tokens, temperature=prompt.temperature
        ):
            if isinstance(item, ModelUsage):
                usage = item
                break
            if first is None:
                first = time.perf_counter()
            raw.append(item)
            if out := markers.feed(item):
                shown.append(out)
                yield out
        if tail := markers.flush():
            shown.append(tail)
            yield tail
        checked = check_markers("".join(raw), context_size=len(context))
        if checked.invalid:
            _log.info("citation_markers_removed", markers=checked.invalid)
        yield ModelAnswer(
            text="".join(shown).strip(),
            context=context,
            cited=[context[i] for i in checked.cited],
            markers=[i + 1 for i in checked.cited],
            invalid_markers=checked.invalid,
            usage=usage,
            model_called=True,
            dropped=dropped,
            model_started=started,
            first_token=first,
        )

    async def _pack(
        self,
        prompt: Prompt,
        stable: list[dict[str, str]],
        question: str,
        scored: list[tuple[str, float]],
        user_context: UserContext | None,
        today: dt.date,
    ) -> tuple[list[int], list[str], list[int]]:
        """Which passages fit the window (indexes into texts), their texts, and those dropped."""
        texts = [text for text, _ in scored]
        frame = request_message(
            prompt, passages=[], question=question, user_context=user_context, today=today
        )
        fixed_texts = [m["content"] for m in [*stable, frame]]
        # Each passage as it appears in the prompt: "[n] text" on its own line.
        shown = [number_passages([t]) + "\n" for t in texts]
        counts, n_ctx = await self.client.count_tokens([*fixed_texts, *shown])
        fixed = sum(counts[: len(fixed_texts)]) + _TEMPLATE_TOKENS_PER_MESSAGE * (
            len(fixed_texts) + 1
        )
        passage_counts = counts[len(fixed_texts) :]
        budget = n_ctx - prompt.max_tokens - fixed
        kept = pack(passage_counts, [score for _, score in scored], budget=budget)
        dropped = [i for i in range(len(texts)) if i not in kept]
        if kept or budget <= 0:
            _log.info("passages_packed", kept=len(kept), dropped=len(dropped), budget=budget)
            return kept, [texts[i] for i in kept], dropped
        # Not even the best passage fits alone: keep its leading whole sentences.
        parts = sentences(texts[0])
        part_counts, _ = await self.client.count_tokens(parts)
        n = shorten(part_counts, budget=budget - 4)
        _log.info("passage_shortened", sentences=n, of=len(parts), budget=budget)
        if n == 0:
            return [], [], list(range(len(texts)))
        return [0], ["".join(parts[:n]).strip()], dropped[1:]
