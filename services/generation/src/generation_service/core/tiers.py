"""Which prompt (and so which model) answers a question from the documents.

No one model should do everything: a lookup ("when does the office open?") is answered as
well by the cheap tier, and a question that needs synthesis ("why", "how do I", "compare")
goes to the larger model, but only when its estimated cost and latency fit the caller's
budget. A pinned prompt version always wins. Every choice comes with its reason, which the
answer records (`route_reason`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from generation_service.core.usage import cost_usd

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from generation_service.core.prompts import Prompt, PromptRegistry
    from generation_service.core.usage import ModelPrice


class QuestionKind(StrEnum):
    """What a question asks of the answer."""

    #: A fact that one passage states: any tier can copy it out.
    LOOKUP = "lookup"
    #: An explanation, a procedure, a comparison or several asks: needs a model that composes.
    SYNTHESIS = "synthesis"


# Asks that a single quoted sentence rarely answers. Anchored on words, case-insensitive.
_SYNTHESIS_CUES = (
    (r"\bwhy\b|\bhow come\b", "asks why"),
    (r"\bhow (do|does|can|could|should|would|to)\b", "asks how to do something"),
    (r"\b(explain|describe|summari[sz]e|overview|walk me through)\b", "asks for an explanation"),
    (
        r"\b(compare|comparison|difference|differences|differ|versus|vs\.?|pros and cons"
        r"|trade-?offs?|better|advantages?|disadvantages?)\b",
        "asks for a comparison",
    ),
    (r"\b(should i|recommend|best way|what happens if|what if)\b", "asks for advice"),
)
_CUES = tuple((re.compile(pattern, re.IGNORECASE), reason) for pattern, reason in _SYNTHESIS_CUES)
# "How many/much/long/often/old" asks for one figure: a lookup, whatever else matches.
_FIGURE = re.compile(r"^\W*how (many|much|long|often|old|far|big)\b", re.IGNORECASE)
_LONG_QUESTION_WORDS = 30


def question_kind(question: str) -> tuple[QuestionKind, str]:
    """Lookup or synthesis, and why."""
    if question.count("?") >= 2:
        return QuestionKind.SYNTHESIS, "several questions in one"
    if len(question.split()) >= _LONG_QUESTION_WORDS:
        return QuestionKind.SYNTHESIS, f"a long question ({len(question.split())} words)"
    if _FIGURE.search(question):
        return QuestionKind.LOOKUP, "asks for one figure"
    for pattern, reason in _CUES:
        if pattern.search(question):
            return QuestionKind.SYNTHESIS, reason
    return QuestionKind.LOOKUP, "asks for a fact"


class TierPolicy(BaseModel):
    """The prompt (version or label) each kind of question is answered with.

    Set in GENERATION_TIERS, e.g. {"lookup": "production", "synthesis": "grounded-qwen@1"}.
    Empty: every unpinned question gets the default prompt (GENERATION_PROMPT_VERSION).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    lookup: str = Field("", description="Prompt version or label for lookups.")
    synthesis: str = Field("", description="Prompt version or label for synthesis.")

    @property
    def enabled(self) -> bool:
        """Whether any kind has a tier of its own."""
        return bool(self.lookup or self.synthesis)


@dataclass(frozen=True)
class Budget:
    """The caller's limits on one answer (AskRequest.budget); None is no limit."""

    max_cost_usd: float | None = None
    max_latency_ms: float | None = None


@dataclass(frozen=True)
class Estimate:
    """What one answer with a prompt is expected to cost and take."""

    cost_usd: float
    #: None when nothing is known yet: no answer measured and no seed in the prompt file.
    latency_ms: float | None


@dataclass(frozen=True)
class PromptChoice:
    """The prompt that answers, and why it was chosen."""

    prompt: Prompt
    reason: str


class AnswerStats:
    """Running means of what answers cost, per prompt version, to estimate the next one.

    Exponentially weighted, so a model that got slower (a busier machine, longer passages) is
    priced by its recent answers. Kept in memory: each replica learns from its own answers, and
    a restart starts again from the prompt file's `expected_latency_ms`.
    """

    #: Prompt tokens assumed before any answer is measured: five 200-token passages and a prefix.
    DEFAULT_PROMPT_TOKENS = 1200
    _WEIGHT = 0.2

    def __init__(self) -> None:
        self._latency_ms: dict[str, float] = {}
        self._prompt_tokens: dict[str, float] = {}

    def record(self, prompt_key: str, *, latency_ms: float, prompt_tokens: int) -> None:
        """Fold one answer's measured generation time and prompt size in."""
        self._latency_ms[prompt_key] = _ewma(self._latency_ms.get(prompt_key), latency_ms)
        self._prompt_tokens[prompt_key] = _ewma(
            self._prompt_tokens.get(prompt_key), float(prompt_tokens)
        )

    def estimate(self, prompt: Prompt, prices: Mapping[str, ModelPrice], model: str) -> Estimate:
        """Cost at the price table for the mean prompt and a full completion; mean latency."""
        prompt_tokens = round(self._prompt_tokens.get(prompt.key, self.DEFAULT_PROMPT_TOKENS))
        cost = cost_usd(
            prices, model, prompt_tokens=prompt_tokens, completion_tokens=prompt.max_tokens
        )
        latency = self._latency_ms.get(prompt.key, prompt.expected_latency_ms or None)
        return Estimate(cost_usd=cost, latency_ms=latency)


def _ewma(previous: float | None, value: float) -> float:
    return value if previous is None else previous + AnswerStats._WEIGHT * (value - previous)


def choose_prompt(
    question: str,
    *,
    pinned: str,
    default: str,
    policy: TierPolicy,
    prompts: PromptRegistry,
    budget: Budget,
    stats: AnswerStats,
    prices: Mapping[str, ModelPrice],
    served_model: Callable[[Prompt], str],
) -> PromptChoice | None:
    """The prompt for a question answered from the documents; None when `pinned` is unknown.

    Order: a pinned version or label; else, with a tier policy, the question kind's tier if
    its estimate fits the budget, falling back to the lookup tier; else the default.
    """
    if pinned:
        prompt = prompts.resolve(pinned)
        return None if prompt is None else PromptChoice(prompt, f"prompt {pinned} pinned")
    if not policy.enabled:
        return PromptChoice(_resolve(prompts, default), f"default prompt {default}")
    kind, why = question_kind(question)
    cheap_name = policy.lookup or default
    cheap = _resolve(prompts, cheap_name)
    if kind is QuestionKind.LOOKUP or not policy.synthesis:
        return PromptChoice(cheap, f"{kind.value} ({why}): {cheap_name} tier")
    rich = _resolve(prompts, policy.synthesis)
    over = _over_budget(stats.estimate(rich, prices, served_model(rich)), budget)
    if over:
        return PromptChoice(
            cheap,
            f"synthesis ({why}), but {policy.synthesis} is over budget ({over}): {cheap_name} tier",
        )
    return PromptChoice(rich, f"synthesis ({why}): {policy.synthesis} tier")


def _over_budget(estimate: Estimate, budget: Budget) -> str:
    """Why the estimate does not fit the budget; empty when it fits."""
    if budget.max_cost_usd is not None and estimate.cost_usd > budget.max_cost_usd:
        return f"estimated ${estimate.cost_usd:.6f} > ${budget.max_cost_usd:.6f}"
    if budget.max_latency_ms is not None:
        if estimate.latency_ms is None:
            return "latency unknown until it has answered once"
        if estimate.latency_ms > budget.max_latency_ms:
            return f"estimated {estimate.latency_ms:,.0f} ms > {budget.max_latency_ms:,.0f} ms"
    return ""


def _resolve(prompts: PromptRegistry, name: str) -> Prompt:
    prompt = prompts.resolve(name)
    if prompt is None:  # start-up checks every tier resolves; reaching here is a bug
        raise LookupError(f"prompt {name!r} not served: {prompts.known()}")
    return prompt
