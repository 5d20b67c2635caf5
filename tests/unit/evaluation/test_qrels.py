"""The retrieval evaluation set: well-formed, and every answer is really in its documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
QRELS = ROOT / "evaluation" / "qrels" / "acme.jsonl"
DOCUMENTS = ROOT / "examples" / "documents"
KINDS = {"paraphrase", "keyword", "code", "heading"}


def _normalized(text: str) -> str:
    return " ".join(text.split()).lower()


def _documents() -> dict[str, str]:
    texts = {}
    for path in sorted(DOCUMENTS.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        texts[document["id"]] = document["text"]
    return texts


def _rows() -> list[dict]:
    lines = QRELS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


ROWS = _rows()


def test_every_line_parses_into_a_complete_question() -> None:
    assert len(ROWS) >= 40
    for row in ROWS:
        assert isinstance(row["id"], str) and row["id"]
        assert isinstance(row["question"], str) and row["question"].strip()
        assert isinstance(row["relevant"], list) and row["relevant"]
        assert all(isinstance(d, str) for d in row["relevant"])
        assert isinstance(row["answer_contains"], str) and row["answer_contains"].strip()
        assert row.get("kind", "paraphrase") in KINDS


def test_ids_and_questions_are_unique() -> None:
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids))
    questions = [_normalized(row["question"]) for row in ROWS]
    assert len(questions) == len(set(questions))


def test_relevant_documents_exist() -> None:
    known = set(_documents())
    assert len(known) == 12
    for row in ROWS:
        assert set(row["relevant"]) <= known, row["id"]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_answer_occurs_in_a_relevant_document(row: dict) -> None:
    documents = _documents()
    needle = _normalized(row["answer_contains"])
    assert any(needle in _normalized(documents[d]) for d in row["relevant"] if d in documents)
