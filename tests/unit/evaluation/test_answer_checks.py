"""Answer checks: facts, citations, sentence support, "not found", pass rates; question sets."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load(name: str):
    # evaluation/ is a script folder, not an installed package: load it by path.
    spec = importlib.util.spec_from_file_location(name, ROOT / "evaluation" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


checks = _load("answer_checks")
sets = _load("answer_sets")

VACATION = (
    "Every employee receives **10 days of paid sick leave** on 1 January of each year. "
    "A doctor's note is required for absences longer than 3 consecutive working days."
)
TRAVEL = "Mileage for a personal car is reimbursed at USD 0.67 per mile."


def test_normalize_folds_case_quotes_markers_emphasis_and_digit_groups() -> None:
    text = "The **Plus** plan costs USD 20,000 \u2019per\u2019  year [2]."
    assert checks.normalize(text) == "the plus plan costs usd 20000 'per' year ."


@pytest.mark.parametrize(
    ("answer", "facts", "expected"),
    [
        ("You get 20 days per year [1].", ["20 days"], True),
        ("You get 20 DAYS per year.", ["15 days", "20 days"], True),  # any of the list
        ("The limit is USD 20000.", ["20,000"], True),  # digit groups ignored
        ("The limit is USD 20,000.", ["USD 2,000"], False),
        ("See clause 1995.", ["95"], False),  # numbers match whole, not inside others
        ("Call os.getcwd() for it.", ["os.getcwd"], True),
        ("Rooms A-205 are lactation rooms.", ["lactation rooms"], True),
        ("Nothing relevant.", [], False),
    ],
)
def test_contains_fact(answer: str, facts: list[str], expected: bool) -> None:
    assert checks.contains_fact(answer, facts) is expected


def test_cites_relevant_needs_one_relevant_document() -> None:
    assert checks.cites_relevant(["support-sla", "handbook-vacation"], {"handbook-vacation"})
    assert not checks.cites_relevant(["support-sla"], {"handbook-vacation"})
    assert not checks.cites_relevant([], {"handbook-vacation"})


@pytest.mark.parametrize(
    "answer",
    [
        "Not found in your documents.",
        "I could not find an answer to that in your documents.",
        "I could not produce an answer that your documents support.",
    ],
)
def test_the_platforms_declines_say_not_found(answer: str) -> None:
    assert checks.says_not_found(answer)


def test_an_answer_is_not_a_decline() -> None:
    assert not checks.says_not_found("The office is found in Building A [1].")


def test_a_quoted_sentence_is_fully_supported() -> None:
    sentence = "A doctor's note is required for absences longer than 3 consecutive working days."
    assert checks.sentence_support(sentence, [VACATION]) == 1.0


def test_support_is_the_share_of_content_words_in_the_passages() -> None:
    # Content words: doctor, note, required, after, two, week ("weeks" loses its plural s);
    # the passage has the first three.
    share = checks.sentence_support("A doctor's note is required after two weeks.", [VACATION])
    assert share == 0.5


def test_supported_judges_each_sentence_by_the_passages_it_cites() -> None:
    citations = {1: ("handbook-vacation", VACATION), 2: ("handbook-travel-expense", TRAVEL)}
    good = (
        "A doctor's note is required for absences longer than 3 consecutive working days. [1] "
        "Mileage for a personal car is reimbursed at USD 0.67 per mile. [2]"
    )
    assert checks.supported(good, citations)
    # The mileage sentence cites the vacation passage only: not supported there.
    swapped = "Mileage for a personal car is reimbursed at USD 0.67 per mile [1]."
    assert not checks.supported(swapped, citations)


def test_an_unmarked_sentence_is_judged_against_every_cited_passage() -> None:
    citations = {1: ("handbook-travel-expense", TRAVEL)}
    answer = "According to [1], mileage for a personal car is reimbursed. It is USD 0.67 per mile."
    assert checks.supported(answer, citations)


def test_an_invented_sentence_is_not_supported() -> None:
    citations = {1: ("handbook-travel-expense", TRAVEL)}
    answer = "Mileage is paid at USD 0.67 per mile [1]. Electric scooters earn double points."
    assert not checks.supported(answer, citations)


def test_an_answer_without_citations_is_not_supported() -> None:
    assert not checks.supported("Mileage is reimbursed at USD 0.67 per mile.", {})


def test_score_applies_only_the_checks_a_question_labels() -> None:
    record = checks.AnswerRecord(
        text="Mileage for a personal car is reimbursed at USD 0.67 per mile. [1]",
        citations={1: ("handbook-travel-expense", TRAVEL)},
    )
    labelled = checks.Expectation(relevant=frozenset({"handbook-travel-expense"}), facts=("0.67",))
    assert checks.score(record, labelled) == {
        "cites_relevant": True,
        "contains_fact": True,
        "supported": True,
    }
    unanswerable = checks.Expectation(answerable=False)
    assert checks.score(record, unanswerable) == {"says_not_found": False, "supported": True}


def test_a_decline_is_not_judged_for_support_and_passes_an_unanswerable_question() -> None:
    record = checks.AnswerRecord(text="Not found in your documents.", citations={})
    assert checks.score(record, checks.Expectation(answerable=False)) == {"says_not_found": True}


def test_a_computed_answer_is_judged_by_its_fact_only() -> None:
    record = checks.AnswerRecord(text="325 * 4 = 1300", citations={}, route="calculator")
    assert checks.score(record, checks.Expectation(facts=("1300",))) == {"contains_fact": True}


def test_summarize_counts_passes_over_applicable_answers() -> None:
    def record(latency: float, cost: float = 0.0) -> object:
        return checks.AnswerRecord(text="", citations={}, latency_ms=latency, cost_usd=cost)

    scored = [
        (record(100, 0.002), {"cites_relevant": True, "contains_fact": True}),
        (record(200), {"cites_relevant": False, "contains_fact": True}),
        (record(300), {"says_not_found": True}),
        (record(400, 0.002), {"says_not_found": False}),
    ]
    summary = checks.summarize("extractive@1", scored)
    assert summary.checks["cites_relevant"] == (1, 2)
    assert summary.checks["contains_fact"] == (2, 2)
    assert summary.checks["says_not_found"] == (1, 2)
    assert summary.checks["supported"] == (0, 0)
    assert summary.rate("supported") is None
    assert summary.rate("cites_relevant") == 0.5
    assert summary.overall == 0.5
    assert summary.p50_ms == 250
    assert summary.p95_ms == pytest.approx(385)
    assert summary.cost_per_answer_usd == pytest.approx(0.001)


def test_faq_facts_are_api_names_the_question_does_not_name() -> None:
    answer = (
        "Call the function PyRun_String() from the previous question with the start symbol "
        "Py_eval_input. See www.python.org and f.read for more; foo.py is an example."
    )
    facts = sets.faq_facts("How can I evaluate a Python expression from C?", answer)
    assert facts == ("PyRun_String", "Py_eval_input")
    assert sets.faq_facts("How do I call PyRun_String()?", answer) == ("Py_eval_input",)
    assert sets.faq_facts("What is Python?", "A programming language.") == ()


def test_the_acme_sets_are_labelled() -> None:
    questions = sets.load_acme()
    by_kind: dict[str, list] = {}
    for q in questions:
        by_kind.setdefault(q.kind, []).append(q)
    answerable = [q for q in questions if q.relevant]
    assert len(answerable) == 40 and all(q.facts for q in answerable)
    assert len(by_kind["unanswerable"]) >= 10
    assert all(not q.answerable and not q.relevant for q in by_kind["unanswerable"])
    assert all(q.facts and not q.relevant for q in by_kind["arithmetic"])
    assert len({q.id for q in questions}) == len(questions)


def test_every_expected_fact_is_stated_in_a_relevant_document() -> None:
    import json

    texts = {}
    for path in (ROOT / "examples" / "documents").glob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        texts[document["id"]] = document["text"]
    for q in sets.load_acme():
        if q.relevant:
            documents = " ".join(texts[d] for d in q.relevant)
            assert checks.contains_fact(documents, q.facts), q.id


def test_a_faq_sample_is_spread_over_the_ids() -> None:
    class Query:
        def __init__(self, i: int) -> None:
            self.id, self.text, self.metadata = f"q{i:02}", f"Question {i}?", {}

    class Dataset:
        def judged_queries(self) -> list[Query]:
            return [Query(i) for i in range(10)]

        def relevant(self, query_id: str) -> dict[str, int]:
            return {f"doc-{query_id}": 2}

    picked = sets.load_python_faq(Dataset(), document_id=str.upper, sample=4)
    assert [q.id for q in picked] == ["q00", "q02", "q05", "q07"]
    assert picked[0].relevant == frozenset({"DOC-Q00"})
    assert len(sets.load_python_faq(Dataset(), document_id=str, sample=None)) == 10
