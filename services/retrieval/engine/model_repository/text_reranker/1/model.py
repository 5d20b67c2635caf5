"""Triton Python-backend model: a query and its passages in, one relevance score per passage out.

The reranker contract (services/retrieval/engine/README.md): QUERY (string, [1]), PASSAGES
(string, [-1]) -> SCORES (fp32, [-1]), higher = more relevant. This engine scores each
(query, passage) pair with a cross-encoder exported to ONNX by build_reranker.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scoring_backend import (
    DEFAULT_RUN_BATCH,
    ENGINE_CONFIG,
    ScorerModel,
    length_runs,
    onnx_session,
    padded_feeds,
)
from tokenizers import Encoding, Tokenizer


class PairScorer:
    """Tokenize (query, passage) pairs, run the ONNX cross-encoder, reduce logits to a score."""

    def __init__(
        self, version_dir: Path, *, intra_op_threads: int = 0, run_batch: int = DEFAULT_RUN_BATCH
    ) -> None:
        """Load the tokenizer, engine settings and onnxruntime session from a built version dir."""
        engine = json.loads((version_dir / ENGINE_CONFIG).read_text())
        self._run_batch = max(1, run_batch)
        self._pad_id = int(engine["pad_token_id"])
        self._score = str(engine["score"])
        self._positive = int(engine.get("positive_label", 1))
        self._inputs = tuple(engine["inputs"])
        self._tokenizer = Tokenizer.from_file(str(version_dir / engine["tokenizer"]))
        # The pair is truncated as transformers does with truncation=True (longest first), so a
        # long query cannot push the passage out entirely nor fail the request.
        self._tokenizer.enable_truncation(
            max_length=int(engine["max_length"]), strategy="longest_first"
        )
        self._tokenizer.no_padding()

        self._session = onnx_session(
            version_dir / engine["onnx"], intra_op_threads=intra_op_threads
        )

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """Return float32 [len(passages)] relevance scores of each passage for the query."""
        out = np.empty(len(passages), dtype=np.float32)
        if not passages:
            return out
        encodings = self._tokenizer.encode_batch([(query, p) for p in passages])
        for rows in length_runs([len(e.ids) for e in encodings], self._run_batch):
            out[rows] = self._run([encodings[i] for i in rows])
        return out

    def _run(self, encodings: list[Encoding]) -> np.ndarray:
        """Pad one run to its longest pair, run the model and reduce its logits."""
        feeds = padded_feeds(encodings, self._pad_id)
        (logits,) = self._session.run(["logits"], {k: feeds[k] for k in self._inputs})
        return reduce_logits(logits, self._score, self._positive)


def reduce_logits(logits: np.ndarray, score: str, positive: int) -> np.ndarray:
    """One score per row: the logit of a one-label model, or the positive class's log-odds.

    `log_odds` is logit[positive] minus the log-sum-exp of the other labels, i.e.
    log(p / (1 - p)) of the positive class under softmax: monotone in its probability and on
    the scale of a one-label model's logit (0 = even odds). With two labels it is simply
    logit[positive] - logit[other].
    """
    logits = logits.astype(np.float64, copy=False)
    if score == "logit":
        return logits[:, 0].astype(np.float32)
    others = np.delete(logits, positive, axis=1)
    top = others.max(axis=1, keepdims=True)
    rest = top[:, 0] + np.log(np.exp(others - top).sum(axis=1))
    return (logits[:, positive] - rest).astype(np.float32)


class TritonPythonModel(ScorerModel):
    """Triton entry point: each request is one query with its passages."""

    scorer_type = PairScorer
