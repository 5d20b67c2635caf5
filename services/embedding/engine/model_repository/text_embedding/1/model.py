"""Triton Python-backend model: texts in, L2-normalized mean-pooled MiniLM int8 embeddings out."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils
from tokenizers import Encoding, Tokenizer

ENGINE_CONFIG = "engine.json"
INPUT_NAME = "TEXT"
OUTPUT_NAME = "EMBEDDING"
DEFAULT_RUN_BATCH = 32
PAD_RATIO = 1.1
PAD_TOKENS = 4


def _available_cpus() -> int:
    """Count the CPUs this process may use (honours affinity pinning, unlike os.cpu_count)."""
    return max(1, len(os.sched_getaffinity(0)))


def _decode(value: object) -> str:
    """Turn one TEXT element into str; invalid UTF-8 becomes U+FFFD rather than an error."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    raise ValueError(f"{INPUT_NAME} elements must be bytes, got {type(value).__name__}")


class SentenceEncoder:
    """Tokenize, run the ONNX encoder, mean-pool over real tokens and L2-normalize."""

    def __init__(
        self, version_dir: Path, intra_op_threads: int = 0, run_batch: int = DEFAULT_RUN_BATCH
    ) -> None:
        """Load the tokenizer, pooling settings and onnxruntime session from a built version dir."""
        engine = json.loads((version_dir / ENGINE_CONFIG).read_text())
        self._run_batch = max(1, run_batch)
        self.dim = int(engine["embedding_dim"])
        self._pad_id = int(engine["pad_token_id"])
        self._tokenizer = Tokenizer.from_file(str(version_dir / engine["tokenizer"]))
        # tokenizer.json ships with truncation at 128 and fixed padding; sentence-transformers runs
        # this model with max_seq_length=256 and pads only to the longest text of a batch.
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

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return float32 [len(texts), dim] unit vectors."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        for rows in self._runs([len(e.ids) for e in encodings]):
            out[rows] = self._run([encodings[i] for i in rows])
        return out

    def _runs(self, lengths: list[int]) -> Iterator[list[int]]:
        """Group text indices into onnxruntime runs of similar token count."""
        # Padding a mixed dynamic batch (queries + 250-token passages) to its longest text wasted
        # about half the compute (measured 2x slower), so texts are length-sorted and a run closes
        # before any row would need more than PAD_RATIO x its length + PAD_TOKENS of padding.
        run: list[int] = []
        for i in sorted(range(len(lengths)), key=lengths.__getitem__):
            too_long = run and lengths[i] > lengths[run[0]] * PAD_RATIO + PAD_TOKENS
            if run and (len(run) >= self._run_batch or too_long):
                yield run
                run = []
            run.append(i)
        if run:
            yield run

    def _run(self, encodings: list[Encoding]) -> np.ndarray:
        """Pad one chunk to its longest member, run the encoder and pool."""
        width = max(len(e.ids) for e in encodings)
        shape = (len(encodings), width)
        input_ids = np.full(shape, self._pad_id, dtype=np.int64)
        attention_mask = np.zeros(shape, dtype=np.int64)
        token_type_ids = np.zeros(shape, dtype=np.int64)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            input_ids[row, :n] = enc.ids
            attention_mask[row, :n] = enc.attention_mask
            token_type_ids[row, :n] = enc.type_ids
        feeds = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "token_type_ids": token_type_ids,
        }
        (hidden,) = self._session.run(
            ["last_hidden_state"], {k: v for k, v in feeds.items() if k in self._feeds}
        )
        weights = attention_mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32, copy=False)


class TritonPythonModel:
    """Triton entry point: one encode call serves every request of a dynamic batch."""

    def initialize(self, args: dict[str, str]) -> None:
        """Load the encoder from this model version's directory."""
        parameters = json.loads(args["model_config"]).get("parameters", {})

        def parameter(key: str, default: int) -> int:
            """Read an integer parameter from config.pbtxt."""
            return int(parameters.get(key, {}).get("string_value") or default)

        version_dir = Path(args["model_repository"]) / args["model_version"]
        self._encoder = SentenceEncoder(
            version_dir,
            intra_op_threads=parameter("intra_op_num_threads", 0),
            run_batch=parameter("run_batch", DEFAULT_RUN_BATCH),
        )

    def execute(self, requests: list) -> list:
        """Embed all texts of the batch at once; a bad request gets its own error only."""
        parsed = [self._read(request) for request in requests]
        good = [texts for texts in parsed if not isinstance(texts, pb_utils.TritonError)]
        try:
            vectors = self._encoder.encode([t for texts in good for t in texts])
        except Exception:  # noqa: BLE001 - isolate the culprit instead of failing the whole batch
            return [self._respond_alone(item) for item in parsed]
        responses, offset = [], 0
        for item in parsed:
            if isinstance(item, pb_utils.TritonError):
                responses.append(pb_utils.InferenceResponse(error=item))
                continue
            chunk = vectors[offset : offset + len(item)]
            offset += len(item)
            responses.append(
                pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor(OUTPUT_NAME, chunk)])
            )
        return responses

    def _read(self, request: object) -> list[str] | pb_utils.TritonError:
        """Decode one request's TEXT tensor, or describe why it is unusable."""
        tensor = pb_utils.get_input_tensor_by_name(request, INPUT_NAME)
        if tensor is None:
            return pb_utils.TritonError(
                f"missing input {INPUT_NAME}", pb_utils.TritonError.INVALID_ARG
            )
        try:
            return [_decode(value) for value in tensor.as_numpy().reshape(-1)]
        except ValueError as exc:
            return pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG)

    def _respond_alone(self, item: list[str] | pb_utils.TritonError) -> object:
        """Encode one request on its own, turning a failure into that request's error."""
        if isinstance(item, pb_utils.TritonError):
            return pb_utils.InferenceResponse(error=item)
        try:
            vectors = self._encoder.encode(item)
        except Exception as exc:  # noqa: BLE001 - report to the caller, keep the instance alive
            error = pb_utils.TritonError(f"embedding failed: {exc}", pb_utils.TritonError.INTERNAL)
            return pb_utils.InferenceResponse(error=error)
        return pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor(OUTPUT_NAME, vectors)])
