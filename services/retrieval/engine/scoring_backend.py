"""The reranker contract's Triton side, shared by every second-stage model.

QUERY (string, [1]), PASSAGES (string, [-1]) -> SCORES (fp32, [-1]), higher = more relevant
(README.md beside this file). Each build script copies this file into the model's version
directory, next to its model.py, which imports it (Triton's Python stub puts the version
directory on sys.path); outside Triton the build scripts put this folder there instead. A
model.py keeps only what is its own: a scorer class with `score(query, passages)`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding

ENGINE_CONFIG = "engine.json"
QUERY_INPUT = "QUERY"
PASSAGES_INPUT = "PASSAGES"
OUTPUT_NAME = "SCORES"
DEFAULT_RUN_BATCH = 16
# A run takes texts up to 1.1 x (+4 tokens) the shortest one's length: little padding wasted.
PAD_RATIO = 1.1
PAD_TOKENS = 4


def install(version_dir: Path) -> None:
    """Copy this module beside a model.py being built (its build scripts call it)."""
    target = version_dir / Path(__file__).name
    target.write_bytes(Path(__file__).read_bytes())


class Scorer(Protocol):
    """What a second-stage model computes."""

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """float32 [len(passages)] scores, higher = more relevant."""
        ...


def available_cpus() -> int:
    """Count the CPUs this process may use (honours affinity pinning, unlike os.cpu_count)."""
    return max(1, len(os.sched_getaffinity(0)))


def decode_string(value: object) -> str:
    """Turn one string element into str; invalid UTF-8 becomes U+FFFD rather than an error."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    raise ValueError(f"string elements must be bytes, got {type(value).__name__}")


def onnx_session(path: Path, *, intra_op_threads: int = 0) -> ort.InferenceSession:
    """A CPU onnxruntime session that leaves the cores alone when idle."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads or available_cpus()
    options.inter_op_num_threads = 1
    # Spinning idle workers would burn the cores Triton's frontend and stub IPC need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def length_runs(lengths: Sequence[int], run_batch: int) -> Iterator[list[int]]:
    """Group text indices into onnxruntime runs of similar token count, at most run_batch."""
    run: list[int] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        too_long = run and lengths[i] > lengths[run[0]] * PAD_RATIO + PAD_TOKENS
        if run and (len(run) >= run_batch or too_long):
            yield run
            run = []
        run.append(i)
    if run:
        yield run


def padded_feeds(encodings: Sequence[Encoding], pad_id: int) -> dict[str, np.ndarray]:
    """BERT inputs for one run, padded to its longest text."""
    width = max(len(e.ids) for e in encodings)
    shape = (len(encodings), width)
    feeds = {
        "input_ids": np.full(shape, pad_id, dtype=np.int64),
        "attention_mask": np.zeros(shape, dtype=np.int64),
        "token_type_ids": np.zeros(shape, dtype=np.int64),
    }
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        feeds["input_ids"][row, :n] = enc.ids
        feeds["attention_mask"][row, :n] = enc.attention_mask
        feeds["token_type_ids"][row, :n] = enc.type_ids
    return feeds


class ScorerModel:
    """Triton entry point for a scorer class: each request is one query with its passages.

    A model.py subclasses it as `TritonPythonModel` and names its scorer in `scorer_type`,
    built as `scorer_type(version_dir, intra_op_threads=..., run_batch=...)`.
    """

    scorer_type: ClassVar[Any]

    def initialize(self, args: dict[str, str]) -> None:
        """Load the scorer from this model version's directory."""
        parameters = json.loads(args["model_config"]).get("parameters", {})

        def parameter(key: str, default: int) -> int:
            """Read an integer parameter from config.pbtxt."""
            return int(parameters.get(key, {}).get("string_value") or default)

        version_dir = Path(args["model_repository"]) / args["model_version"]
        self._scorer: Scorer = self.scorer_type(
            version_dir,
            intra_op_threads=parameter("intra_op_num_threads", 0),
            run_batch=parameter("run_batch", DEFAULT_RUN_BATCH),
        )

    def execute(self, requests: list) -> list:
        """Score every request on its own; a bad request gets its own error only."""
        # Imported here, not at the top, so the scorers load outside Triton too.
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
    def _read(request: object, pb_utils: Any) -> tuple[str, list[str]]:
        """Decode QUERY (exactly one string) and PASSAGES, or say why they are unusable."""
        tensors = {}
        for name in (QUERY_INPUT, PASSAGES_INPUT):
            tensor = pb_utils.get_input_tensor_by_name(request, name)
            if tensor is None:
                raise ValueError(f"missing input {name}")
            tensors[name] = [decode_string(v) for v in tensor.as_numpy().reshape(-1)]
        if len(tensors[QUERY_INPUT]) != 1:
            raise ValueError(f"{QUERY_INPUT} takes exactly one string")
        return tensors[QUERY_INPUT][0], tensors[PASSAGES_INPUT]
