"""The cross-encoder engine without a server: build_reranker.py on tiny random models, and the
served code (model.py's PairScorer) against PyTorch."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
QUERY = "How are hotel stays in London capped?"
PASSAGES = [
    "Hotel stays in London are capped at 250 GBP a night.",
    "Laptops must use full-disk encryption.",
    "Hotels in London are capped at 250 GBP a night. " * 60,  # past the 128-token window
    "",
]


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build_reranker() -> ModuleType:
    return _load("build_reranker", ROOT / "services/retrieval/engine/build_reranker.py")


@pytest.fixture(scope="module")
def tiny() -> ModuleType:
    return _load("tiny_cross_encoder", ROOT / "tests/fixtures/tiny_cross_encoder.py")


def _torch_logits(source: Path, passages: list[str]) -> np.ndarray:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source))
    model = AutoModelForSequenceClassification.from_pretrained(str(source)).eval()
    batch = tokenizer(
        [QUERY] * len(passages),
        passages,
        padding=True,
        truncation=True,
        max_length=128,
        return_tensors="pt",
    )
    with torch.no_grad():
        return model(**batch).logits.numpy().astype(np.float64)


def test_logits_reduce_to_one_logit_or_the_positive_class_log_odds(build_reranker) -> None:
    model_py = _load("reranker_model", build_reranker.TEMPLATE_DIR / "1" / "model.py")
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0]])
    assert model_py.reduce_logits(logits[:, :1], "logit", 0).tolist() == [2.0, 0.0]
    two = model_py.reduce_logits(logits[:, :2], "log_odds", 1)
    np.testing.assert_allclose(two, [-3.0, 0.0])
    three = model_py.reduce_logits(logits, "log_odds", 2)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(three, np.log(p[:, 2] / (1 - p[:, 2])), rtol=1e-6)


def test_a_two_label_model_serves_the_positive_class_log_odds(
    build_reranker, tiny, tmp_path
) -> None:
    source = tiny.make_tiny_cross_encoder(tmp_path / "model", num_labels=2)
    repository = build_reranker.build(tmp_path / "cache", source, name="pairs_2")
    version = repository / "pairs_2" / "1"
    engine = json.loads((version / "engine.json").read_text())
    assert (engine["score"], engine["positive_label"], engine["max_length"]) == ("log_odds", 1, 128)
    assert engine["inputs"] == ["input_ids", "token_type_ids", "attention_mask"]

    scorer = build_reranker.load_scorer_type(version / "model.py")(version, run_batch=2)
    served = scorer.score(QUERY, PASSAGES)
    logits = _torch_logits(source, PASSAGES)
    np.testing.assert_allclose(served, logits[:, 1] - logits[:, 0], atol=1e-4)
    # Alone or among others, in runs of 2 or of 16: the same score.
    alone = [scorer.score(QUERY, [p])[0] for p in PASSAGES]
    np.testing.assert_allclose(alone, served, atol=1e-5)
    assert scorer.score(QUERY, []).shape == (0,)

    # Unchanged inputs: the stamp says so and nothing is rebuilt.
    stamp = (repository / "pairs_2" / ".build-stamp").read_text()
    build_reranker.build(tmp_path / "cache", source, name="pairs_2")
    assert (repository / "pairs_2" / ".build-stamp").read_text() == stamp


def test_models_it_cannot_score_are_refused_with_the_reason(build_reranker, tiny, tmp_path) -> None:
    three = tiny.make_tiny_cross_encoder(tmp_path / "three", num_labels=3)
    with pytest.raises(RuntimeError, match="--positive-label"):
        build_reranker.engine_settings(three)
    assert build_reranker.engine_settings(three, positive_label=2)["positive_label"] == 2
    with pytest.raises(RuntimeError, match="exceeds"):
        build_reranker.engine_settings(three, positive_label=2, max_length=4096)
    assert (
        build_reranker.main(["--model", str(tmp_path / "missing"), "--cache", str(tmp_path)]) == 1
    )
