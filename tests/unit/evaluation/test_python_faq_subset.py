"""The python-faq subset cutter on a tiny BEIR folder, and the committed subset's invariants."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "python-faq-subset"


def _load(name: str, path: Path):
    # evaluation/ is a script folder, not an installed package: load it by path.
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


subset = _load("python_faq_subset", ROOT / "evaluation" / "datasets" / "python_faq" / "subset.py")
beir = _load("beir", ROOT / "evaluation" / "beir.py")


def _full(folder: Path) -> Path:
    """Six queries, twenty sections; q5 judges a section too big for the budget."""
    (folder / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": f"p{i}.html#s{i}", "title": f"Page {i}", "text": "x" * (900 if i == 19 else 50)}
        for i in range(20)
    ]
    queries = [{"_id": f"q{i}", "text": f"question {i}?"} for i in range(6)]
    qrels = [(f"q{i}", f"p{i}.html#s{i}", 2) for i in range(5)]
    qrels += [("q0", "p5.html#s5", 1), ("q5", "p19.html#s19", 2)]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in queries))
    rows = ["query-id\tcorpus-id\tscore", *(f"{q}\t{d}\t{g}" for q, d, g in qrels)]
    (folder / "qrels" / "test.tsv").write_text("\n".join(rows) + "\n")
    return folder


def test_cut_keeps_every_judged_document_and_is_deterministic(tmp_path):
    full = _full(tmp_path / "full")
    spec = subset.Cut(queries=3, judged_budget_chars=400, distractors=4, distractor_max_chars=100)
    for out in (tmp_path / "a", tmp_path / "b"):
        subset.write(subset.cut(full, spec), out, spec=spec, source={"package": "test"})
    names = ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv", "manifest.json")
    assert all(
        (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names
    )

    dataset = beir.load_beir(tmp_path / "a")  # refuses qrels naming absent documents
    assert len(dataset.queries) == 3
    assert "q5" not in dataset.queries  # its judged section is over the budget
    judged = {d for q in dataset.qrels.values() for d in q}
    assert len(dataset.corpus) == len(judged) + 4
    assert "p19.html#s19" not in dataset.corpus  # too long for a distractor as well
    kept = {json.loads(line)["_id"]: line for line in (tmp_path / "a" / "corpus.jsonl").open()}
    original = {json.loads(line)["_id"]: line for line in (full / "corpus.jsonl").open()}
    assert all(original[d] == line for d, line in kept.items())  # rows copied byte for byte


def test_committed_subset_is_whole_and_small():
    dataset = beir.load_beir(FIXTURE)
    manifest = json.loads((FIXTURE / "manifest.json").read_text())
    baseline = json.loads((FIXTURE / "baseline.json").read_text())
    assert len(dataset.judged_queries()) == len(dataset.queries) == baseline["queries"]
    assert len(dataset.corpus) == manifest["summary"]["documents"]
    assert set(baseline["per_query"]) == set(dataset.queries)
    assert (FIXTURE / "corpus.jsonl").stat().st_size < 1_500_000
    assert manifest["cut"] == vars(subset.Cut())  # the committed files match the script's cut
