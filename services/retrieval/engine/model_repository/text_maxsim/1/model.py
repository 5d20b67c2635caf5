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
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

ENGINE_CONFIG = "engine.json"
QUERY_INPUT = "QUERY"
PASSAGES_INPUT = "PASSAGES"
OUTPUT_NAME = "SCORES"
DEFAULT_RUN_BATCH = 16
PAD_RATIO = 1.1
PAD_TOKENS = 4


def _available_cpus() -> int:
    """Count the CPUs this process may use (honours affinity pinning, unlike os.cpu_count)."""
    return max(1, len(os.sched_getaffinity(0)))


def _decode(value: object) -> str:
    """Turn one string element into str; invalid UTF-8 becomes U+FFFD rather than an error."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    raise ValueError(f"string elements must be bytes, got {type(value).__name__}")


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
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads or _available_cpus()
        options.inter_op_num_threads = 1
        # Spinning idle workers would burn the cores Triton's frontend and stub IPC need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(version_dir / engine["onnx"]), options, providers=["CPUExecutionProvider"]
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
        for rows in self._runs([len(e.ids) for e in rest]):
            for row, tokens in zip(rows, self._token_vectors([rest[i] for i in rows]), strict=True):
                if len(tokens):
                    out[row] = (query_tokens @ tokens.T).max(axis=1).mean()
        return out

    def _runs(self, lengths: list[int]) -> Iterator[list[int]]:
        """Group passage indices into onnxruntime runs of similar token count."""
        run: list[int] = []
        for i in sorted(range(len(lengths)), key=lengths.__getitem__):
            too_long = run and lengths[i] > lengths[run[0]] * PAD_RATIO + PAD_TOKENS
            if run and (len(run) >= self._run_batch or too_long):
                yield run
                run = []
            run.append(i)
        if run:
            yield run

    def _token_vectors(self, encodings: list[Encoding]) -> list[np.ndarray]:
        """Pad one run to its longest text, run the encoder; unit vectors of the real tokens
        of each text, [CLS] and [SEP] (its first and last) left out."""
        width = max(len(e.ids) for e in encodings)
        shape = (len(encodings), width)
        feeds = {
            "input_ids": np.full(shape, self._pad_id, dtype=np.int64),
            "attention_mask": np.zeros(shape, dtype=np.int64),
            "token_type_ids": np.zeros(shape, dtype=np.int64),
        }
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            feeds["input_ids"][row, :n] = enc.ids
            feeds["attention_mask"][row, :n] = enc.attention_mask
            feeds["token_type_ids"][row, :n] = enc.type_ids
        (hidden,) = self._session.run(
            ["last_hidden_state"], {k: v for k, v in feeds.items() if k in self._feeds}
        )
        vectors = []
        for row, enc in enumerate(encodings):
            tokens = hidden[row, 1 : len(enc.ids) - 1].astype(np.float32)
            norms = np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), 1e-12)
            vectors.append(tokens / norms)
        return vectors


class TritonPythonModel:
    """Triton entry point: each request is one query with its passages."""

    def initialize(self, args: dict[str, str]) -> None:
        """Load the scorer from this model version's directory."""
        parameters = json.loads(args["model_config"]).get("parameters", {})

        def parameter(key: str, default: int) -> int:
            """Read an integer parameter from config.pbtxt."""
            return int(parameters.get(key, {}).get("string_value") or default)

        version_dir = Path(args["model_repository"]) / args["model_version"]
        self._scorer = MaxSimScorer(
            version_dir,
            intra_op_threads=parameter("intra_op_num_threads", 0),
            run_batch=parameter("run_batch", DEFAULT_RUN_BATCH),
        )

    def execute(self, requests: list) -> list:
        """Score every request on its own; a bad request gets its own error only."""
        # Imported here, not at the top, so tests can load MaxSimScorer outside Triton.
        import triton_python_backend_utils as pb_utils

        responses = []
        for request in requests:
            try:
                query, passages = self._read(request, pb_utils)
            except ValueError as exc:
                error = pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG)
                responses.append(pb_utils.InferenceResponse(error=error))
                continue
            try:
                scores = self._scorer.score(query, passages)
            except Exception as exc:  # noqa: BLE001 - report to the caller, keep the instance
                error = pb_utils.TritonError(
                    f"scoring failed: {exc}", pb_utils.TritonError.INTERNAL
                )
                responses.append(pb_utils.InferenceResponse(error=error))
                continue
            responses.append(
                pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor(OUTPUT_NAME, scores)])
            )
        return responses

    @staticmethod
    def _read(request: object, pb_utils: object) -> tuple[str, list[str]]:
        """Decode QUERY (exactly one string) and PASSAGES, or say why they are unusable."""
        tensors = {}
        for name in (QUERY_INPUT, PASSAGES_INPUT):
            tensor = pb_utils.get_input_tensor_by_name(request, name)  # type: ignore[attr-defined]
            if tensor is None:
                raise ValueError(f"missing input {name}")
            tensors[name] = [_decode(v) for v in tensor.as_numpy().reshape(-1)]
        if len(tensors[QUERY_INPUT]) != 1:
            raise ValueError(f"{QUERY_INPUT} takes exactly one string")
        return tensors[QUERY_INPUT][0], tensors[PASSAGES_INPUT]
