"""The language-model build: parts concatenated in order, the hash checked, the config renamed."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[3] / "services/generation/engine/build_engine.py"


@pytest.fixture(scope="module")
def build_engine():
    spec = importlib.util.spec_from_file_location("generation_build_engine", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def _parts(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    paths = []
    for n, chunk in enumerate(chunks, start=1):
        path = tmp_path / f"part{n:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


def _model(build_engine, sha256: str, name: str = "text_generation_test"):
    return build_engine.GgufModel(
        triton_name=name, parts=(), sha256=sha256, n_ctx=4096, install_hint="install it"
    )


def test_parts_are_concatenated_in_order_and_verified(build_engine, tmp_path: Path) -> None:
    chunks = [b"GGUF" + bytes(range(256)) * 50, b"second" * 1000, b"tail"]
    whole = b"".join(chunks)
    model = _model(build_engine, hashlib.sha256(whole).hexdigest())
    target = tmp_path / "built"
    build_engine.build_model_dir(model, _parts(tmp_path, chunks), target, "digest")

    assert (target / "1" / "model.gguf").read_bytes() == whole
    config = (target / "config.pbtxt").read_text()
    assert 'name: "text_generation_test"' in config
    assert 'string_value: "4096"' in config
    assert (target / "1" / "model.py").is_file()


def test_a_wrong_hash_stops_the_build_and_leaves_no_model(build_engine, tmp_path: Path) -> None:
    chunks = [b"part one", b"part two"]
    # The hash of the parts in the wrong order: a reordered or corrupt part is refused.
    model = _model(build_engine, hashlib.sha256(b"part twopart one").hexdigest())
    paths = _parts(tmp_path, chunks)
    spec = build_engine.ModelBuild(
        name=model.triton_name,
        template_dir=build_engine.TEMPLATE_DIR,
        outputs=("1/model.gguf",),
        write=lambda target, digest: build_engine.build_model_dir(model, paths, target, digest),
    )
    with pytest.raises(RuntimeError, match="sha256"):
        build_engine.build_model(tmp_path / "cache", spec, "digest")
    assert not (tmp_path / "cache/triton/model_repository/text_generation_test").exists()


def test_a_missing_package_says_how_to_install_it(build_engine) -> None:
    model = build_engine.GgufModel(
        triton_name="x",
        parts=(build_engine.GgufPart("no-such-dist", "no_such_package_xyz", "m.gguf"),),
        sha256="0" * 64,
        n_ctx=2048,
        install_hint="`make models-qwen`",
    )
    with pytest.raises(RuntimeError, match="no-such-dist is not installed: `make models-qwen`"):
        model.part_paths()


def test_both_shipped_models_render_their_own_config(build_engine) -> None:
    template = (build_engine.TEMPLATE_DIR / "config.pbtxt").read_text()
    names = set()
    for model in build_engine.MODELS.values():
        config = build_engine.render_config(template, name=model.triton_name, n_ctx=model.n_ctx)
        assert f'name: "{model.triton_name}"' in config
        assert f'string_value: "{model.n_ctx}"' in config
        names.add(model.triton_name)
    assert names == {"text_generation", "text_generation_qwen05"}
    assert build_engine.MODELS[build_engine.DEFAULT_MODEL].triton_name == "text_generation"
