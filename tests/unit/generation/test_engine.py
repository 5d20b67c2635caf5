"""The extractive engine quotes the best sentences and cites them."""

from __future__ import annotations

import asyncio

from generation_service.core import (
    NO_ANSWER,
    AskInput,
    ExtractiveEngine,
    SourcePassage,
    answer_cache_key,
)

PASSAGES = [
    SourcePassage(
        "c1",
        "Travel",
        "Meals are reimbursed. Hotel stays are capped at USD 325 per night in London.",
    ),
    SourcePassage("c2", "Security", "MFA is mandatory. Use Okta Verify or FIDO2 keys."),
]


def test_answer_quotes_the_matching_sentence_with_its_marker() -> None:
    answer = asyncio.run(
        ExtractiveEngine().answer("What is the hotel cap per night in London?", PASSAGES)
    )
    assert answer.text == "Hotel stays are capped at USD 325 per night in London. [1]"
    assert answer.cited == [0]
    assert answer.completion_tokens == len(answer.text.split())


def test_no_matching_sentence_gives_the_no_answer_text_without_citations() -> None:
    answer = asyncio.run(ExtractiveEngine().answer("quarterly revenue forecast", PASSAGES))
    assert (answer.text, answer.cited) == (NO_ANSWER, [])


def _ask(**overrides: object) -> AskInput:
    base = {
        "tenant": "acme",
        "question": "Hotel cap?",
        "top_k": 5,
        "prompt_version": "extractive@1",
    }
    return AskInput.model_validate(base | overrides)


def test_cache_key_ignores_case_and_spacing_but_not_tenant_groups_or_prompt() -> None:
    key = answer_cache_key(_ask())
    assert key == answer_cache_key(_ask(question="  hotel   CAP? "))
    assert key != answer_cache_key(_ask(tenant="globex"))
    assert key != answer_cache_key(_ask(groups=["engineering"]))
    assert key != answer_cache_key(_ask(top_k=3))
    assert key != answer_cache_key(_ask(prompt_version="extractive@2"))


def test_the_stemmed_engine_matches_word_forms_the_exact_one_misses() -> None:
    passages = [
        SourcePassage("c1", "IT security", "Passwords must be renewed every 90 days."),
    ]
    question = "password renewal frequency"
    exact = asyncio.run(ExtractiveEngine().answer(question, passages))
    stemmed = asyncio.run(ExtractiveEngine(stemmed=True).answer(question, passages))
    assert exact.model == "extractive@1" and stemmed.model == "extractive@2"
    assert exact.cited == []  # "passwords" is not "password", "renewed" not "renewal"
    assert "90 days" in stemmed.text and stemmed.cited == [0]
