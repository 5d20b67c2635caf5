"""Prompt files, labels, assembly order, packing into the window, citation markers."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from generation_service.adapters import load_prompts
from generation_service.adapters.models import ModelUsage
from generation_service.core import Prompt, PromptError, PromptRegistry, UserContext
from generation_service.core.assembly import (
    date_in_words,
    pack,
    request_message,
    sentences,
    shorten,
    stable_messages,
)
from generation_service.core.citations import MarkerFilter, check_markers
from generation_service.llm import NOT_FOUND, ContextPassage, ModelAnswer, ModelEngine

PROMPTS = Path(__file__).resolve().parents[3] / "services" / "generation" / "prompts"
TODAY = dt.date(2026, 3, 3)


def _model_prompt(**fields: object) -> Prompt:
    base = {
        "name": "p",
        "version": 1,
        "engine": "triton",
        "model": "m",
        "system": "Answer from the passages.",
        "request": "{passages}\n{user_context}{date}\n{question}",
    }
    return Prompt.model_validate(base | fields)


def test_the_shipped_prompts_load_with_one_version_per_label() -> None:
    prompts = load_prompts(PROMPTS)
    assert prompts.resolve("production").key == "extractive@1"
    assert prompts.resolve("canary").key == "grounded@1"
    assert prompts.resolve("grounded@1") is prompts.resolve("canary")
    assert prompts.resolve("grounded@2") is None
    assert "grounded@1" in prompts.known() and "canary=grounded@1" in prompts.known()


def test_a_label_on_two_versions_or_a_misnamed_file_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="label 'canary'"):
        PromptRegistry(
            [_model_prompt(labels=["canary"]), _model_prompt(version=2, labels=["canary"])]
        )
    (tmp_path / "other@1.yaml").write_text((PROMPTS / "grounded@1.yaml").read_text())
    with pytest.raises(PromptError, match=r"name the file grounded@1\.yaml"):
        load_prompts(tmp_path)


def test_a_model_prompt_without_a_placeholder_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\{question\}"):
        _model_prompt(request="{passages}{user_context}{date}")


def test_stable_part_first_then_passages_context_date_and_question_last() -> None:
    prompt = load_prompts(PROMPTS).resolve("grounded@1")
    stable = stable_messages(prompt)
    # Identical for every request: the prefix an engine can cache.
    assert stable == stable_messages(prompt)
    assert stable[0]["role"] == "system" and [m["role"] for m in stable[1:3]] == [
        "user",
        "assistant",
    ]
    context = UserContext(current_page="Expenses > Hotels", locale="en-GB", recent_turns=())
    user = request_message(
        prompt,
        passages=["Hotels cost USD 325.", "Meals cost USD 75."],
        question="What is the hotel cap?",
        user_context=context,
        today=TODAY,
    )["content"]
    order = [
        user.index("[1] Hotels cost USD 325."),
        user.index("[2] Meals cost USD 75."),
        user.index("Expenses > Hotels"),
        user.index("Tuesday, 3 March 2026"),
        user.index("What is the hotel cap?"),
    ]
    assert order == sorted(order)
    assert user.endswith("What is the hotel cap?")
    # Examples carry no date line: the stable part never changes with the day.
    assert all("Current date" not in m["content"] for m in stable)


def test_date_is_written_out() -> None:
    assert date_in_words(dt.date(2026, 12, 2)) == "Wednesday, 2 December 2026"


def test_packing_drops_the_weakest_first_and_keeps_retrieval_order() -> None:
    counts = [50, 40, 30, 20]
    scores = [0.9, 0.2, 0.5, 0.1]
    assert pack(counts, scores, budget=200) == [0, 1, 2, 3]
    assert pack(counts, scores, budget=120) == [0, 1, 2]  # drops the 0.1 only
    assert pack(counts, scores, budget=85) == [0, 2]
    assert pack(counts, scores, budget=10) == []


def test_shortening_keeps_whole_sentences_only() -> None:
    parts = sentences("One is short. Two is longer than one! Three? Four")
    assert parts == ["One is short. ", "Two is longer than one! ", "Three? ", "Four"]
    assert shorten([4, 6, 2, 1], budget=11) == 2
    assert shorten([4, 6], budget=3) == 0


def test_markers_naming_context_passages_become_citations_others_are_removed() -> None:
    checked = check_markers("Paris [2]. Lyon [1, 2] and [7]. See [source].", context_size=2)
    assert checked.text == "Paris [2]. Lyon [1][2] and. See."
    assert checked.cited == [1, 0]
    assert checked.invalid == ["[7]", "[source]"]


def test_streamed_markers_are_held_until_complete_and_invalid_ones_never_sent() -> None:
    stream = MarkerFilter(context_size=1)
    tokens = ["Hotels", " [", "1", "]", " cost", " [", "4", "]", " more", "."]
    shown = [stream.feed(t) for t in tokens] + [stream.flush()]
    assert "".join(shown) == "Hotels [1] cost more."
    assert shown[1] == shown[2] == ""  # nothing while "[1" could still become anything


class _FakeModel:
    """An in-process model for the engine's logic: counts words, replies from a script."""

    model = "fake"

    def __init__(self, reply: list[str], n_ctx: int = 400) -> None:
        self.reply = reply
        self.n_ctx = n_ctx
        self.calls: list[list[dict[str, str]]] = []

    async def stream(self, messages, *, max_tokens, temperature):
        self.calls.append(list(messages))
        for token in self.reply:
            yield token
        yield ModelUsage(100, len(self.reply), "stop")

    async def count_tokens(self, texts):
        return [len(t.split()) for t in texts], self.n_ctx

    async def close(self) -> None:
        return None


def _run_engine(model: _FakeModel, passages: list[ContextPassage], **prompt: object) -> list:
    async def run() -> list:
        return [
            item
            async for item in ModelEngine(model).stream(
                _model_prompt(max_tokens=50, **prompt),
                question="q?",
                passages=passages,
                user_context=None,
                today=TODAY,
            )
        ]

    return asyncio.run(run())


def test_engine_maps_markers_to_the_passages_in_its_context() -> None:
    model = _FakeModel(["Yes", " [2]", " and", " [9]", "."])
    passages = [ContextPassage("a b c.", 0.5), ContextPassage("d e f.", 0.4)]
    *deltas, answer = _run_engine(model, passages)
    assert isinstance(answer, ModelAnswer)
    assert "".join(deltas).strip() == answer.text == "Yes [2] and."
    assert answer.cited == [1] and answer.markers == [2] and answer.invalid_markers == ["[9]"]


def test_engine_drops_the_weakest_passage_that_does_not_fit() -> None:
    model = _FakeModel(["ok"], n_ctx=200)
    passages = [
        ContextPassage("strong " * 40, 0.9),
        ContextPassage("weak " * 40, 0.1),
        ContextPassage("middle " * 40, 0.5),
    ]
    *_, answer = _run_engine(model, passages)
    assert answer.context == [0, 2] and answer.dropped == [1]
    assert "weak" not in model.calls[0][-1]["content"]


def test_engine_says_not_found_without_calling_the_model_below_the_threshold() -> None:
    model = _FakeModel(["never"])
    items = _run_engine(model, [ContextPassage("a b.", 0.01)], min_relevance=0.02)
    assert len(items) == 1 and items[0].text == NOT_FOUND and not items[0].model_called
    assert model.calls == []
