"""The routing policy between model tiers: question kinds, budgets, estimates, pins."""

from __future__ import annotations

import pytest

from generation_service.core import (
    AnswerStats,
    Budget,
    EngineKind,
    ModelPrice,
    Prompt,
    PromptRegistry,
    QuestionKind,
    TierPolicy,
    choose_prompt,
    question_kind,
)

_REQUEST = "{passages}\n{user_context}{date}\n{question}"


def _registry() -> PromptRegistry:
    return PromptRegistry(
        [
            Prompt(
                name="extractive",
                version=1,
                labels=["production"],
                engine=EngineKind.EXTRACTIVE,
                model="extractive",
            ),
            Prompt(
                name="big",
                version=1,
                engine=EngineKind.TRITON,
                model="big_model",
                max_tokens=200,
                expected_latency_ms=8000,
                system="Answer from the passages.",
                request=_REQUEST,
            ),
            Prompt(
                name="unmeasured",
                version=1,
                engine=EngineKind.TRITON,
                model="other",
                system="Answer from the passages.",
                request=_REQUEST,
            ),
        ]
    )


def _choose(question: str, *, pinned: str = "", budget: Budget | None = None, **kw):
    kw.setdefault("policy", TierPolicy(lookup="production", synthesis="big@1"))
    kw.setdefault("stats", AnswerStats())
    kw.setdefault("prices", {})
    return choose_prompt(
        question,
        pinned=pinned,
        default="production",
        prompts=_registry(),
        budget=budget or Budget(),
        served_model=lambda p: p.model,
        **kw,
    )


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When does the office open?", QuestionKind.LOOKUP),
        ("What is the hotel cap in London?", QuestionKind.LOOKUP),
        ("How many vacation days do new hires get?", QuestionKind.LOOKUP),
        ("How long is the probation period?", QuestionKind.LOOKUP),
        ("Why does logging.debug() not print anything?", QuestionKind.SYNTHESIS),
        ("How do I make a copy of a list?", QuestionKind.SYNTHESIS),
        ("What is the difference between a tuple and a list?", QuestionKind.SYNTHESIS),
        ("Explain the expense approval process", QuestionKind.SYNTHESIS),
        ("Who approves expenses? And by when?", QuestionKind.SYNTHESIS),
        ("Should I use threads or processes for CPU-bound work", QuestionKind.SYNTHESIS),
        (" ".join(["word"] * 30), QuestionKind.SYNTHESIS),
    ],
)
def test_question_kinds(question: str, kind: QuestionKind) -> None:
    found, reason = question_kind(question)
    assert found is kind
    assert reason


def test_a_lookup_takes_the_cheap_tier_and_says_why() -> None:
    choice = _choose("When does the office open?")
    assert choice.prompt.key == "extractive@1"
    assert choice.reason == "lookup (asks for a fact): production tier"


def test_synthesis_takes_the_larger_model_within_budget() -> None:
    choice = _choose("Why was my claim refused?", budget=Budget(max_latency_ms=10_000))
    assert choice.prompt.key == "big@1"
    assert choice.reason == "synthesis (asks why): big@1 tier"


def test_synthesis_over_the_latency_budget_falls_back_with_the_estimate() -> None:
    choice = _choose("Why was my claim refused?", budget=Budget(max_latency_ms=5000))
    assert choice.prompt.key == "extractive@1"
    assert "over budget (estimated 8,000 ms > 5,000 ms)" in choice.reason


def test_measured_latency_replaces_the_prompt_files_estimate() -> None:
    stats = AnswerStats()
    stats.record("big@1", latency_ms=3000, prompt_tokens=900)
    fast = _choose("Why was my claim refused?", budget=Budget(max_latency_ms=5000), stats=stats)
    assert fast.prompt.key == "big@1"
    # A slower answer moves the mean a fifth of the way: 3000 + 0.2 * (23000 - 3000) = 7000.
    stats.record("big@1", latency_ms=23000, prompt_tokens=900)
    slow = _choose("Why was my claim refused?", budget=Budget(max_latency_ms=5000), stats=stats)
    assert slow.prompt.key == "extractive@1"
    assert "estimated 7,000 ms" in slow.reason


def test_cost_budget_is_priced_from_the_table_and_the_mean_prompt() -> None:
    prices = {"big_model": ModelPrice(input_per_1m=1.0, output_per_1m=2.0)}
    # Default 1,200 prompt tokens and 200 completion tokens: 0.0012 + 0.0004 = 0.0016 USD.
    over = _choose("Why?", budget=Budget(max_cost_usd=0.0015), prices=prices)
    assert over.prompt.key == "extractive@1"
    assert "estimated $0.001600 > $0.001500" in over.reason
    within = _choose("Why?", budget=Budget(max_cost_usd=0.0016), prices=prices)
    assert within.prompt.key == "big@1"


def test_an_unmeasured_model_never_passes_a_latency_budget() -> None:
    policy = TierPolicy(lookup="production", synthesis="unmeasured@1")
    limited = _choose("Why?", budget=Budget(max_latency_ms=60_000), policy=policy)
    assert limited.prompt.key == "extractive@1"
    assert "latency unknown" in limited.reason
    unlimited = _choose("Why?", policy=policy)
    assert unlimited.prompt.key == "unmeasured@1"


def test_a_pin_wins_and_an_unknown_pin_is_none() -> None:
    assert _choose("When does it open?", pinned="big@1").prompt.key == "big@1"
    assert _choose("Why?", pinned="production").prompt.key == "extractive@1"
    assert _choose("Why?", pinned="nope@3") is None


def test_without_a_policy_every_question_gets_the_default() -> None:
    choice = _choose("Why was my claim refused?", policy=TierPolicy())
    assert choice.prompt.key == "extractive@1"
    assert choice.reason == "default prompt production"
