"""Build a Triton reranker model from any Hugging Face sequence-classification model directory.

    python services/retrieval/engine/build_reranker.py --model DIR [--name text_reranker]

DIR holds config.json, the tokenizer files and the weights (what `save_pretrained` writes, or a
downloaded snapshot such as BAAI/bge-reranker-base). The model is exported to fp32 ONNX, checked
against PyTorch on a few pairs, and laid out as <cache>/triton/model_repository/<name> with the
template's config.pbtxt and model.py, which serve the reranker contract (README.md beside this
file): QUERY, PASSAGES -> SCORES.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

from platform_triton import model_build
from platform_triton.model_build import (
    ModelBuild,
    build_model,
    copy_template,
    files_under,
    write_stamp,
)

# model.py imports scoring_backend from beside itself (Triton puts the version directory on
# sys.path, and the build copies the module there); outside Triton it comes from this folder.
ENGINE_DIR = Path(__file__).resolve().parent
if str(ENGINE_DIR) not in sys.path:
    sys.path.append(str(ENGINE_DIR))
import scoring_backend  # noqa: E402 - needs the folder on sys.path first

# Everything comes from the model directory; nothing may reach a hub at build time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

log = logging.getLogger("build_engine")

DEFAULT_NAME = "text_reranker"
TEMPLATE_DIR = Path(__file__).resolve().parent / "model_repository" / "text_reranker"
OPSET = 17
#: Inputs model.py can feed; the exported graph takes those the tokenizer produces.
KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ONNX_OUTPUT = "logits"
# Library versions that change the exported graph or what model.py computes.
TOOL_DISTRIBUTIONS = ("torch", "transformers", "onnx", "onnxruntime", "tokenizers")
# Larger than any real tokenizer limit: transformers' "no limit" sentinel is ~1e30.
_SANE_MAX_LENGTH = 100_000
# Pairs the fresh engine is checked on against PyTorch (served code, fp32: differences ~1e-6).
VERIFY_PAIRS = (
    ("How do I reset my password?", "Open Settings, choose Security, then Reset password."),
    ("How do I reset my password?", "The cat fell asleep on the warm laptop keyboard."),
    ("What is the hotel cap in London?", "Hotels in London are capped at 250 GBP a night. " * 40),
)
VERIFY_MAX_ABS_DIFF = 1e-3


def engine_settings(
    source: Path, *, max_length: int | None = None, positive_label: int | None = None
) -> dict[str, Any]:
    """Read what model.py needs from the model's config and tokenizer; refuse what it cannot do."""
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(str(source))
    tokenizer = AutoTokenizer.from_pretrained(str(source), use_fast=True)
    if not tokenizer.is_fast:
        raise RuntimeError(f"{source}: no fast tokenizer (tokenizer.json) could be built")
    inputs = [name for name in tokenizer.model_input_names if name in KNOWN_INPUTS]
    if "input_ids" not in inputs:
        names = tokenizer.model_input_names
        raise RuntimeError(f"{source}: tokenizer inputs {names} lack input_ids")
    num_labels = int(config.num_labels)
    if num_labels == 1:
        score, positive = "logit", 0
    else:
        if positive_label is None and num_labels > 2:
            raise RuntimeError(
                f"{source} has {num_labels} labels {config.id2label}; say which one means "
                "relevant with --positive-label"
            )
        positive = 1 if positive_label is None else positive_label
        if not 0 <= positive < num_labels:
            raise RuntimeError(f"--positive-label {positive} is not a label of {config.id2label}")
        score = "log_odds"
    limit = _model_max_length(config, tokenizer)
    if max_length is not None:
        if max_length > limit:
            raise RuntimeError(f"--max-length {max_length} exceeds the model's {limit} tokens")
        limit = max_length
    pad = tokenizer.pad_token_id
    return {
        "onnx": "model.onnx",
        "tokenizer": "tokenizer.json",
        "inputs": inputs,
        "max_length": limit,
        "pad_token_id": 0 if pad is None else int(pad),
        "num_labels": num_labels,
        "score": score,
        "positive_label": positive,
        "labels": {str(k): v for k, v in config.id2label.items()},
        "model_type": config.model_type,
    }


def _model_max_length(config: Any, tokenizer: Any) -> int:
    """Tokens a pair may have: the tokenizer's limit, else what the position table allows."""
    positions = getattr(config, "max_position_embeddings", None)
    if positions is not None and config.model_type in ("roberta", "xlm-roberta", "camembert"):
        # RoBERTa-style position ids start after the padding index (2 rows are never usable).
        positions -= 2
    candidates = [int(tokenizer.model_max_length)] if tokenizer.model_max_length else []
    candidates = [c for c in candidates if c < _SANE_MAX_LENGTH]
    if positions is not None:
        candidates.append(int(positions))
    if not candidates:
        raise RuntimeError("the model states no maximum length; pass --max-length")
    return min(candidates)


def inputs_digest(source: Path, options: dict[str, Any]) -> str:
    """Hash what the built model depends on: the model's files, templates, scripts, versions."""
    digest = hashlib.sha256()
    # Weights can be gigabytes: files are identified by name, size and time, as the generation
    # engine does with its GGUF; the build itself checks the export numerically.
    for path in files_under(source):
        stat = path.stat()
        rel = path.relative_to(source)
        digest.update(f"model/{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    named = [(f"template/{p.relative_to(TEMPLATE_DIR)}", p) for p in files_under(TEMPLATE_DIR)]
    named.append(("build_reranker.py", Path(__file__).resolve()))
    named.append(("scoring_backend.py", Path(scoring_backend.__file__).resolve()))
    named.append(("model_build.py", Path(model_build.__file__).resolve()))
    for name, path in named:
        digest.update(name.encode() + b"\0" + path.read_bytes())
    digest.update(json.dumps({"source": str(source), **options}, sort_keys=True).encode())
    for dist in TOOL_DISTRIBUTIONS:
        digest.update(f"{dist}=={metadata.version(dist)}\0".encode())
    return digest.hexdigest()


def export_onnx(source: Path, inputs: list[str], out_path: Path) -> None:
    """Export the classifier's logits to fp32 ONNX with dynamic batch and sequence axes."""
    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification

    transformers.utils.logging.disable_progress_bar()
    # Eager attention traces to plain MatMul/Softmax ops whatever fused kernel torch would pick.
    model = AutoModelForSequenceClassification.from_pretrained(
        str(source), attn_implementation="eager"
    ).eval()

    class Logits(torch.nn.Module):
        """Take the tokenizer's inputs positionally, expose only the logits."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(inputs, tensors, strict=True))).logits

    # Batch 2 with one padded row so the traced mask handling covers real padding.
    input_ids = torch.full((2, 16), 5, dtype=torch.long)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 9:] = 0
    token_type_ids = torch.zeros_like(input_ids)
    token_type_ids[:, 8:] = 1
    example = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "token_type_ids": token_type_ids,
    }
    dynamic = {name: {0: "batch", 1: "sequence"} for name in inputs}
    dynamic[ONNX_OUTPUT] = {0: "batch"}
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter warns about the legacy path and about shape checks in the
        # transformers mask code that it freezes; verify() proves the graph on other shapes.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Logits(),
            tuple(example[name] for name in inputs),
            str(out_path),
            input_names=inputs,
            output_names=[ONNX_OUTPUT],
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def load_scorer_type(model_py: Path) -> Any:
    """The PairScorer class of a model.py, loaded from its file (it runs outside Triton too)."""
    spec = importlib.util.spec_from_file_location(f"_reranker_{os.getpid()}", model_py)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {model_py}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PairScorer


def torch_scores(source: Path, pairs: list[tuple[str, str]], settings: dict[str, Any]) -> Any:
    """The reference: PyTorch logits on the pairs as transformers tokenizes them, reduced."""
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source), use_fast=True)
    model = AutoModelForSequenceClassification.from_pretrained(str(source)).eval()
    batch = tokenizer(
        [q for q, _ in pairs],
        [p for _, p in pairs],
        padding=True,
        truncation=True,
        max_length=int(settings["max_length"]),
        return_tensors="pt",
    )
    with torch.no_grad():
        logits = model(**batch).logits.numpy()
    if settings["score"] == "logit":
        return logits[:, 0]
    positive = int(settings["positive_label"])
    others = np.delete(logits, positive, axis=1).astype(np.float64)
    return logits[:, positive] - np.log(np.exp(others).sum(axis=1))


def verify(source: Path, version_dir: Path, settings: dict[str, Any]) -> float:
    """Score VERIFY_PAIRS with the served code and with PyTorch; return the largest difference."""
    import numpy as np

    scorer = load_scorer_type(version_dir / "model.py")(version_dir)
    pairs = list(VERIFY_PAIRS)
    served = np.concatenate([scorer.score(q, [p]) for q, p in pairs])
    reference = torch_scores(source, pairs, settings)
    worst = float(np.abs(served - reference).max())
    if worst > VERIFY_MAX_ABS_DIFF:
        raise RuntimeError(
            f"ONNX engine diverges from PyTorch: {served.tolist()} vs {reference.tolist()}"
        )
    return worst


def build_model_dir(
    source: Path, target: Path, work: Path, digest: str, settings: dict[str, Any]
) -> None:
    """Write a complete model dir (config, model.py, ONNX, tokenizer, settings, stamp)."""
    from transformers import AutoTokenizer

    version_dir = target / "1"
    copy_template(TEMPLATE_DIR, target)
    scoring_backend.install(version_dir)
    started = time.monotonic()
    fp32_path = work / "model.onnx"
    export_onnx(source, list(settings["inputs"]), fp32_path)
    shutil.move(str(fp32_path), version_dir / "model.onnx")
    log.info(
        "exported fp32 onnx in %.1fs (%.1f MB)",
        time.monotonic() - started,
        (version_dir / "model.onnx").stat().st_size / 1e6,
    )
    # The fast tokenizer's own file (converted from vocab files when the model has none): its
    # post-processor builds the pair as the model was trained ([CLS] q [SEP] p [SEP], type ids).
    tokenizer = AutoTokenizer.from_pretrained(str(source), use_fast=True)
    tokenizer.backend_tokenizer.save(str(version_dir / "tokenizer.json"))
    (version_dir / "engine.json").write_text(json.dumps(settings, indent=2) + "\n")
    worst = verify(source, version_dir, settings)
    log.info("verified onnx engine against pytorch: max abs difference %.2e", worst)
    write_stamp(
        target,
        digest,
        source=str(source),
        score=settings["score"],
        max_length=settings["max_length"],
        verify_max_abs_diff=worst,
    )


def build(
    cache_dir: Path,
    source: Path,
    *,
    name: str = DEFAULT_NAME,
    max_length: int | None = None,
    positive_label: int | None = None,
    force: bool = False,
) -> Path:
    """Ensure <cache>/triton/model_repository/<name> is current; return the repository."""
    source = source.resolve()
    if not (source / "config.json").is_file():
        raise RuntimeError(f"{source} is not a model directory (no config.json)")
    options = {"max_length": max_length, "positive_label": positive_label}
    digest = inputs_digest(source, options)

    def write(target: Path, digest: str) -> None:
        settings = engine_settings(source, max_length=max_length, positive_label=positive_label)
        # Scratch files (the export) go beside the staged model, removed with it.
        work = Path(tempfile.mkdtemp(prefix="work-", dir=target.parent))
        build_model_dir(source, target, work, digest, settings)

    model = ModelBuild(
        name=name,
        template_dir=TEMPLATE_DIR,
        outputs=("1/model.onnx", "1/tokenizer.json", "1/engine.json", "1/scoring_backend.py"),
        write=write,
    )
    return build_model(cache_dir, model, digest, force=force)


def main(argv: list[str] | None = None) -> int:
    """The command line: the model directory, the Triton name, the cache; exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True, help="Hugging Face model directory")
    parser.add_argument(
        "--name", default=DEFAULT_NAME, help=f"Triton model name (default: {DEFAULT_NAME})"
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(".cache"), help="cache directory (default: .cache)"
    )
    parser.add_argument(
        "--max-length", type=int, help="tokens per (query, passage) pair (default: the model's)"
    )
    parser.add_argument(
        "--positive-label", type=int, help="label index meaning relevant (default: 1 of 2)"
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if the stamp says up to date"
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log.setLevel(args.log_level)
    try:
        repository = build(
            args.cache,
            args.model,
            name=args.name,
            max_length=args.max_length,
            positive_label=args.positive_label,
            force=args.force,
        )
    except Exception:  # any failure is the build's: logged with its traceback
        log.exception("reranker build failed")
        return 1
    log.info("model repository: %s", repository)
    return 0


if __name__ == "__main__":
    sys.exit(main())
