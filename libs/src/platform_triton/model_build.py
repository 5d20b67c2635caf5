"""How every engine we ship is laid out in the Triton model repository (`make models`).

A model directory is built from its inputs (a template folder, weights, tool versions) whose
hash is stamped into it, so an up-to-date one is left alone in milliseconds. Builds that
share a cache folder take one lock, and a build is staged beside the repository and swapped
in by two renames: an interruption leaves the old directory or none, never a partial one.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

STAMP_FILE = ".build-stamp"
_log = logging.getLogger("build_engine")


def files_under(root: Path) -> list[Path]:
    """Regular files below `root` in a stable order, bytecode caches left out."""
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def copy_template(template_dir: Path, target: Path) -> None:
    """Copy a model's template (config.pbtxt, model.py) into the directory being built."""
    for path in files_under(template_dir):
        dest = target / path.relative_to(template_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)


def write_stamp(target: Path, digest: str, **facts: Any) -> None:
    """Record the inputs' hash (and facts of the build) in the directory being built."""
    stamp = {"inputs_sha256": digest, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **facts}
    (target / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n")


@dataclass(frozen=True)
class ModelBuild:
    """One model of the repository: its name, what it depends on and how to write it."""

    name: str
    template_dir: Path
    #: Paths, relative to the model directory, a complete build has besides the template.
    outputs: tuple[str, ...]
    #: Writes a complete model directory at its first argument for the inputs' hash.
    write: Callable[[Path, str], None]

    def expected_files(self, model_root: Path) -> list[Path]:
        """Files a complete model directory must contain."""
        names = [STAMP_FILE, *self.outputs]
        names += [str(p.relative_to(self.template_dir)) for p in files_under(self.template_dir)]
        return [model_root / name for name in names]

    def is_up_to_date(self, model_root: Path, digest: str) -> bool:
        """Whether `model_root` was built from exactly these inputs and is complete."""
        try:
            stamp = json.loads((model_root / STAMP_FILE).read_text())
        except (OSError, ValueError):
            return False
        return stamp.get("inputs_sha256") == digest and all(
            p.is_file() for p in self.expected_files(model_root)
        )


def build_model(cache_dir: Path, model: ModelBuild, digest: str, *, force: bool = False) -> Path:
    """Ensure <cache>/triton/model_repository/<name> is current; return the repository."""
    triton_dir = cache_dir.resolve() / "triton"
    repository = triton_dir / "model_repository"
    model_root = repository / model.name
    if not force and model.is_up_to_date(model_root, digest):
        _log.info("engine up to date at %s", model_root)
        return repository
    with _exclusive(triton_dir / ".build.lock"):
        if not force and model.is_up_to_date(model_root, digest):
            _log.info("engine built concurrently at %s", model_root)
            return repository
        # Staging lives beside, not in, the repository: Triton would try to load any dir there.
        staging_root = triton_dir / f".build-{model.name}"
        shutil.rmtree(staging_root, ignore_errors=True)
        staging_root.mkdir(parents=True)
        repository.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            staged = staging_root / model.name
            model.write(staged, digest)
            if model_root.exists():
                os.rename(model_root, staging_root / "previous")
            os.rename(staged, model_root)
        finally:
            shutil.rmtree(staging_root, ignore_errors=True)
        _log.info("engine built at %s in %.1fs", model_root, time.monotonic() - started)
    return repository


def build_main(
    description: str, build: Callable[[Path, bool], Path], argv: Sequence[str] | None = None
) -> int:
    """The command line of a build script: `--cache`, `--force`, `--log-level`; exit code."""
    from pathlib import Path

    parser = argparse.ArgumentParser(description=description)
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
    # Libraries (onnxruntime.quantization) log each step at INFO on the root logger.
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _log.setLevel(args.log_level)
    try:
        repository = build(args.cache, args.force)
    except Exception:  # noqa: BLE001 - any failure is the build's: logged with its traceback
        _log.exception("engine build failed")
        return 1
    _log.info("model repository: %s", repository)
    return 0


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Serialize builds that share a cache dir (the test fixture, the stack, `make models`)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
