"""The MaxSim second stage without a server: build_maxsim.py over the built text_embedding
engine, and the served code (model.py's MaxSimScorer) against the offline scorer of
evaluation/second_stage.py on real python-faq pairs (the committed subset)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
SUBSET = ROOT / "tests" / "fixtures" / "python-faq-subset"
EMBEDDING = ROOT / ".cache" / "triton" / "model_repository" / "text_embedding"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """text_maxsim built by its script into a cache of its own, from `make models`' engine."""
    if not (EMBEDDING / ".build-stamp").is_file():
        pytest.fail("text_embedding is not built: run `make models` first")
    cache = tmp_path_factory.mktemp("maxsim-cache")
    repository = cache / "triton" / "model_repository"
    repository.mkdir(parents=True)
    (repository / "text_embedding").symlink_to(EMBEDDING)
    build = _load("build_maxsim", ROOT / "services/retrieval/engine/build_maxsim.py")
    assert build.build(cache) == repository.resolve()
    stamp = json.loads((repository / "text_maxsim" / ".build-stamp").read_text())
    first, second = stamp["verify_scores"]
    assert first > second
    # Up to date: a second build leaves the directory alone.
    before = (repository / "text_maxsim" / ".build-stamp").stat().st_mtime_ns
    build.build(cache)
    assert (repository / "text_maxsim" / ".build-stamp").stat().st_mtime_ns == before
    return repository / "text_maxsim" / "1"


@pytest.fixture(scope="module")
def pairs() -> list[tuple[str, list[dict]]]:
    """Three real queries, each with its judged sections and three unjudged ones, as passages
    the way retrieval hands them over (title, heading = the section's first line, text)."""
    queries = [json.loads(line) for line in (SUBSET / "queries.jsonl").open()][:3]
    corpus = {d["_id"]: d for d in map(json.loads, (SUBSET / "corpus.jsonl").open())}
    qrels: dict[str, list[str]] = {}
    for line in list((SUBSET / "qrels" / "test.tsv").open())[1:]:
        query_id, doc_id, _ = line.rstrip("\n").split("\t")
        qrels.setdefault(query_id, []).append(doc_id)
    others = sorted(set(corpus) - {d for docs in qrels.values() for d in docs})[:3]
    out = []
    for query in queries:
        docs = [corpus[d] for d in [*qrels[query["_id"]][:5], *others]]
        passages = [
            {"title": d["title"], "heading": d["text"].split("\n", 1)[0], "text": d["text"][:1200]}
            for d in docs
        ]
        out.append((query["text"], passages))
    return out


def test_served_scores_match_the_offline_scorer_on_real_pairs(built: Path, pairs) -> None:
    build = _load("build_maxsim", ROOT / "services/retrieval/engine/build_maxsim.py")
    served = build.load_scorer_type(built / "model.py")(built, run_batch=4)
    offline = _load("second_stage", ROOT / "evaluation/second_stage.py")
    scorer = offline._scorers()["maxsim"]
    spread = []
    for query, passages in pairs:
        texts = [offline.passage_string(p) for p in passages]
        batched = served.score(query, texts)
        reference = np.array(scorer(query, passages))
        np.testing.assert_allclose(batched, reference, atol=1e-5)
        # A passage scores the same alone as among others (the reranker contract).
        alone = [served.score(query, [t])[0] for t in texts[:2]]
        np.testing.assert_allclose(alone, batched[:2], atol=1e-6)
        spread.append(float(np.ptp(batched)))
        assert np.all((batched > -1) & (batched <= 1.0 + 1e-6))
    assert min(spread) > 0.01, "MaxSim should tell these passages apart"


def test_empty_query_or_passage_scores_zero(built: Path) -> None:
    build = _load("build_maxsim", ROOT / "services/retrieval/engine/build_maxsim.py")
    served = build.load_scorer_type(built / "model.py")(built)
    assert served.score("", ["shutil.copyfile copies a file"]).tolist() == [0.0]
    scores = served.score("How do I copy a file?", ["", "shutil.copyfile copies a file"])
    assert scores[0] == 0.0 and scores[1] > 0.3
    assert served.score("anything", []).shape == (0,)
