"""Routing between model tiers on the real stack: lookups to the cheap tier, synthesis to the
model on Triton within the caller's budget, a pinned prompt above both, the reason recorded.

Generation is restarted with a tier policy (extractive@1 for lookups, grounded@1 on SmolLM2
for synthesis) and restarted again without it after, so other tests see the default.
"""

from __future__ import annotations

import json

import pytest

from contracts.rpc import assistant_pb2
from platform_stack.documents import push_documents, run, wait_for_indexed

pytestmark = pytest.mark.integration

DEADLINE_S = 120
TRAVEL = (
    "<h1>Travel and expenses</h1><h2>Hotels</h2><p>Hotel stays are capped at USD 325 per night "
    "in high-cost cities such as London. The cap is lower elsewhere because hotels cost less "
    "there.</p><h2>Meals</h2><p>The daily meal allowance is USD 75.</p>"
)
LOOKUP = "What is the daily meal allowance?"
SYNTHESIS = "Why is the hotel cap higher in London?"


@pytest.fixture(scope="module")
def tiered_generation(request, stack):
    if request.config.getoption("--stack") == "external":
        pytest.skip("restarts generation: runs only on the embedded stack")
    policy = {"lookup": "extractive@1", "synthesis": "grounded@1"}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GENERATION_TIERS", json.dumps(policy))
        stack.stop_component("generation")
        stack.start_component("generation")
    try:
        yield stack
    finally:
        stack.stop_component("generation")
        stack.start_component("generation")


@pytest.fixture
def indexed_tenant(stack, tenant, make_document) -> str:
    run(
        push_documents(
            stack.config.kafka_bootstrap,
            [make_document("travel", TRAVEL, media_type="text/html")],
        )
    )
    run(wait_for_indexed(stack.config.kafka_bootstrap, {(tenant, "travel", 0)}))
    return tenant


def _ask(assistant, principal, question: str, **fields: object) -> assistant_pb2.AskResponse:
    request = assistant_pb2.AskRequest(
        principal=principal, question=question, bypass_cache=True, **fields
    )
    return assistant.Ask(request, timeout=DEADLINE_S)


def test_lookups_and_synthesis_take_their_tiers(
    tiered_generation, assistant, principal, indexed_tenant
) -> None:
    lookup = _ask(assistant, principal, LOOKUP)
    assert lookup.prompt_version == "extractive@1"
    assert lookup.usage.model == "extractive@1"
    assert "lookup (asks for a fact): extractive@1 tier" in lookup.route_reason
    assert "75" in lookup.answer

    synthesis = _ask(assistant, principal, SYNTHESIS)
    assert synthesis.prompt_version == "grounded@1"
    assert synthesis.usage.model == "text_generation"
    assert synthesis.usage.completion_tokens > 0
    assert "synthesis (asks why): grounded@1 tier" in synthesis.route_reason


def test_a_tight_budget_keeps_synthesis_on_the_cheap_tier(
    tiered_generation, assistant, principal, indexed_tenant
) -> None:
    tight = _ask(
        assistant, principal, SYNTHESIS, budget=assistant_pb2.AnswerBudget(max_latency_ms=1)
    )
    assert tight.prompt_version == "extractive@1"
    assert "over budget" in tight.route_reason and "> 1 ms" in tight.route_reason
    # A budget the model fits: the measured or first-estimate latency is under ten minutes.
    roomy = _ask(
        assistant, principal, SYNTHESIS, budget=assistant_pb2.AnswerBudget(max_latency_ms=600_000)
    )
    assert roomy.prompt_version == "grounded@1"


def test_a_pinned_prompt_overrides_the_policy(
    tiered_generation, assistant, principal, indexed_tenant
) -> None:
    pinned = _ask(assistant, principal, SYNTHESIS, prompt_version="extractive@1")
    assert pinned.prompt_version == "extractive@1"
    assert "tier" not in pinned.route_reason
