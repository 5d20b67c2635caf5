"""Build the Triton text_maxsim model: late interaction over the embedding engine's tokens.

    python services/retrieval/engine/build_maxsim.py [--cache .cache] [--force]

The second-stage candidate that ships with the platform (EVALUATION.md, python-faq): MaxSim
over the token vectors of all-MiniLM-L6-v2, computed by the very int8 ONNX graph that
`make models` builds for text_embedding (so build that first; this script copies its graph,
tokenizer and settings and builds nothing heavy: well under a second). Serves the reranker
contract (README.md beside this file) with model_repository/text_maxsim/.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from platform_triton import model_build
from platform_triton.model_build import (
    STAMP_FILE,
    ModelBuild,
    build_main,
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

MODEL_NAME = "text_maxsim"
SOURCE_MODEL = "text_embedding"
TEMPLATE_DIR = Path(__file__).resolve().parent / "model_repository" / MODEL_NAME
#: What is copied from the embedding engine's version directory.
COPIED = ("model.onnx", "tokenizer.json", "engine.json")
#: A sanity gate on the fresh model: the passage that answers must outscore the one that
#: does not (the tests compare it with the offline scorer on real python-faq pairs).
VERIFY_QUERY = "How do I copy a file?"
VERIFY_PASSAGES = (
    "shutil — High-level file operations > Directory and files operations\n"
    "shutil.copyfile(src, dst) copies the contents of the file named src to a file named dst.",
    "The cat fell asleep on the warm laptop keyboard.",
)


def source_version(cache_dir: Path) -> Path:
    """The built text_embedding version directory whose graph this model reuses."""
    return cache_dir.resolve() / "triton" / "model_repository" / SOURCE_MODEL / "1"


def inputs_digest(source: Path) -> str:
    """Hash what the built model depends on: the embedding build, templates, this script."""
    stamp = source.parent / STAMP_FILE
    if not stamp.is_file():
        raise RuntimeError(
            f"{source.parent} is not built: run services/embedding/engine/build_engine.py "
            "(make models) first"
        )
    digest = hashlib.sha256()
    named = [("source-stamp", stamp)]
    named += [(f"source/{name}", source / name) for name in COPIED]
    named += [(f"template/{p.relative_to(TEMPLATE_DIR)}", p) for p in files_under(TEMPLATE_DIR)]
    named.append(("build_maxsim.py", Path(__file__).resolve()))
    named.append(("scoring_backend.py", Path(scoring_backend.__file__).resolve()))
    named.append(("model_build.py", Path(model_build.__file__).resolve()))
    for name, path in named:
        digest.update(name.encode() + b"\0")
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def load_scorer_type(model_py: Path) -> Any:
    """The MaxSimScorer class of a model.py, loaded from its file (it runs outside Triton)."""
    spec = importlib.util.spec_from_file_location(f"_maxsim_{os.getpid()}", model_py)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {model_py}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MaxSimScorer


def verify(version_dir: Path) -> list[float]:
    """Score the verify pair with the served code; fail unless the answer ranks first."""
    scorer = load_scorer_type(version_dir / "model.py")(version_dir)
    scores = [float(s) for s in scorer.score(VERIFY_QUERY, list(VERIFY_PASSAGES))]
    if not scores[0] > scores[1]:
        raise RuntimeError(f"MaxSim does not prefer the answering passage: {scores}")
    return scores


def build(cache_dir: Path, *, force: bool = False) -> Path:
    """Ensure <cache>/triton/model_repository/text_maxsim is current; return the repository."""
    source = source_version(cache_dir)
    digest = inputs_digest(source)

    def write(target: Path, digest: str) -> None:
        copy_template(TEMPLATE_DIR, target)
        scoring_backend.install(target / "1")
        for name in COPIED:
            shutil.copy2(source / name, target / "1" / name)
        scores = verify(target / "1")
        write_stamp(target, digest, source=str(source), verify_scores=scores)

    model = ModelBuild(
        name=MODEL_NAME,
        template_dir=TEMPLATE_DIR,
        outputs=(*(f"1/{name}" for name in COPIED), "1/scoring_backend.py"),
        write=write,
    )
    return build_model(cache_dir, model, digest, force=force)


if __name__ == "__main__":
    sys.exit(build_main(__doc__ or "", lambda cache, force: build(cache, force=force)))
