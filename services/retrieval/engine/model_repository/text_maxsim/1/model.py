"""Triton Python-backend model: a query and its passages in, one MaxSim score per passage out.

The reranker contract (services/retrieval/engine/README.md): QUERY (string, [1]), PASSAGES
(string, [-1]) -> SCORES (fp32, [-1]), higher = more relevant. This engine is late
interaction (ColBERT's MaxSim) over the token vectors of the platform's own embedding engine
(all-MiniLM-L6-v2, static int8 ONNX, copied from text_embedding by build_maxsim.py): every
query token is matched with its most similar passage token (cosine), and the score is the
mean of those maxima over the query's tokens, in [-1, 1]. [CLS] and [SEP] take no part.
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


class MaxSimScorer:
    """Token vectors of the query and of each passage from the ONNX encoder, then MaxSim."""

    def __init__(
        self, version_dir: Path, *, intra_op_threads: int = 0, run_batch: int = DEFAULT_RUN_BATCH
    ) -> None:
        """Load the tokenizer and onnxruntime session from a built version dir."""
        engine = json.loads((version_dir / ENGINE_CONFIG).read_text())
        self._run_batch = max(1, run_batch)
        self._pad_id = int(engine["pad_token_id"])
        self._tokenizer = Tokenizer.from_file(str(version_dir / engine["tokenizer"]))
        # The embedding engine's window: a passage is read as far as it was embedded.
        self._tokenizer.enable_truncation(max_length=int(engine["max_seq_length"]))
        self._tokenizer.no_padding()
        self._session = onnx_session(
            version_dir / engine["onnx"], intra_op_threads=intra_op_threads
        )
        self._feeds = {i.name for i in self._session.get_inputs()}

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """Return float32 [len(passages)] MaxSim scores of each passage for the query."""
        out = np.zeros(len(passages), dtype=np.float32)
        if not passages:
            return out
        encodings = self._tokenizer.encode_batch([query, *passages])
        query_tokens = self._token_vectors([encodings[0]])[0]
        if not len(query_tokens):
            return out  # an empty query matches nothing: every passage scores 0
        rest = encodings[1:]
        for rows in length_runs([len(e.ids) for e in rest], self._run_batch):
            for row, tokens in zip(rows, self._token_vectors([rest[i] for i in rows]), strict=True):
                if len(tokens):
                    out[row] = (query_tokens @ tokens.T).max(axis=1).mean()
        return out

    def _token_vectors(self, encodings: list[Encoding]) -> list[np.ndarray]:
        """Pad one run to its longest text, run the encoder; unit vectors of the real tokens
        of each text, [CLS] and [SEP] (its first and last) left out."""
        feeds = padded_feeds(encodings, self._pad_id)
        (hidden,) = self._session.run(
            ["last_hidden_state"], {k: v for k, v in feeds.items() if k in self._feeds}
        )
        vectors = []
        for row, enc in enumerate(encodings):
            tokens = hidden[row, 1 : len(enc.ids) - 1].astype(np.float32)
            norms = np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), 1e-12)
            vectors.append(tokens / norms)
        return vectors


class TritonPythonModel(ScorerModel):
    """Triton entry point: each request is one query with its passages."""

    scorer_type = MaxSimScorer
