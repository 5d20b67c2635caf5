"""The BEIR-layout loader: corpus, queries and graded qrels into dataclasses."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load():
    # evaluation/ is a script folder, not an installed package: load it by path.
    spec = importlib.util.spec_from_file_location("beir", ROOT / "evaluation" / "beir.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


beir = _load()


def _write(folder: Path, *, qrels: str) -> Path:
    (folder / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "d1", "title": "One", "text": "first", "metadata": {"page": "p.html"}},
        {"_id": "d2", "title": "Two", "text": "second"},
    ]
    queries = [
        {"_id": "q1", "text": "what?", "metadata": {"answer_text": "this"}},
        {"_id": "q2", "text": "who?"},
    ]
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in corpus) + "\n", encoding="utf-8"
    )
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in queries), encoding="utf-8"
    )
    (folder / "qrels" / "test.tsv").write_text(qrels, encoding="utf-8")
    return folder


def test_loads_corpus_queries_and_graded_qrels(tmp_path: Path) -> None:
    folder = _write(tmp_path, qrels="query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t1\nq2\td2\t0\n")
    dataset = beir.load_beir(folder)
    assert dataset.corpus["d1"] == beir.BeirDocument("d1", "One", "first", {"page": "p.html"})
    assert dataset.corpus["d2"].metadata == {}
    assert dataset.queries["q1"].metadata == {"answer_text": "this"}
    assert dataset.qrels == {"q1": {"d1": 2, "d2": 1}, "q2": {"d2": 0}}
    assert dataset.relevant("q1", min_grade=2) == {"d1": 2}
    assert dataset.relevant("q2") == {}
    assert [q.id for q in dataset.judged_queries()] == ["q1"]


def test_qrels_without_a_header_line_load_too(tmp_path: Path) -> None:
    folder = _write(tmp_path, qrels="q1\td1\t1\n")
    assert beir.load_beir(folder).qrels == {"q1": {"d1": 1}}


@pytest.mark.parametrize(
    "qrels",
    ["query-id\tcorpus-id\tscore\nq1\td9\t1\n", "q9\td1\t1\n", "q1\td1\n", "q1\td1\thigh\n"],
    ids=["unknown document", "unknown query", "two columns", "score not a number"],
)
def test_malformed_qrels_are_refused(tmp_path: Path, qrels: str) -> None:
    with pytest.raises(beir.BeirError):
        beir.load_beir(_write(tmp_path, qrels=qrels))


def test_a_missing_file_or_bad_line_is_refused(tmp_path: Path) -> None:
    with pytest.raises(beir.BeirError, match="not found"):
        beir.load_beir(tmp_path)
    folder = _write(tmp_path / "x", qrels="q1\td1\t1\n")
    (folder / "queries.jsonl").write_text('{"text": "no id"}\n', encoding="utf-8")
    with pytest.raises(beir.BeirError, match=r"queries\.jsonl:1"):
        beir.load_beir(folder)
