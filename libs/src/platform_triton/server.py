"""Locate the pip-installed tritonserver (nvidia-pytriton) and build the argv/env that starts it."""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import shutil
import sys
import sysconfig
import tempfile
from importlib import metadata
from pathlib import Path

from platform_triton.errors import TritonBinaryMissing

_DISTRIBUTION = "nvidia-pytriton"
_STUB_NAME = "triton_python_backend_stub"


def _install_hint() -> str:
    """Say which package provides the server, and into which environment it must go."""
    return f"install it with `{sys.executable} -m pip install {_DISTRIBUTION}`"


def _pytriton_dir() -> Path:
    """Return the installed `pytriton` package directory without importing it."""
    # find_spec on a top-level package does not execute it: cheap and free of side effects.
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        raise TritonBinaryMissing(f"package {_DISTRIBUTION} is not installed; {_install_hint()}")
    return Path(next(iter(spec.submodule_search_locations)))


def find_tritonserver() -> Path:
    """Return the path of the tritonserver binary shipped in the nvidia-pytriton wheel."""
    binary = _pytriton_dir() / "tritonserver" / "bin" / "tritonserver"
    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise TritonBinaryMissing(f"tritonserver binary not found at {binary}; {_install_hint()}")
    return binary


def _bundled_libs_dir() -> Path:
    """Return the wheel's directory of vendored shared libraries (auditwheel's `<dist>.libs`)."""
    libs = _pytriton_dir().parent / "nvidia_pytriton.libs"
    if not libs.is_dir():
        raise TritonBinaryMissing(f"bundled libraries not found at {libs}; {_install_hint()}")
    return libs


def _libpython_dir() -> Path | None:
    """Return the dir of this interpreter's libpython, or None when the system one will do."""
    # The stub embeds CPython through libpython3.X.so; preferring the running interpreter's own
    # copy keeps the stub ABI-identical to the venv's stdlib (e.g. pyenv 3.11.7, not distro 3.11.2).
    soname = sysconfig.get_config_var("INSTSONAME")
    libdir = sysconfig.get_config_var("LIBDIR")
    if soname and libdir and (Path(libdir) / soname).is_file():
        return Path(libdir)
    if ctypes.util.find_library(f"python{sys.version_info.major}.{sys.version_info.minor}"):
        return None
    raise TritonBinaryMissing(
        f"the Python backend stub needs a shared libpython ({soname or 'libpython3.X.so'}) "
        "and this interpreter has none; use a Python built with --enable-shared or install "
        "the distribution's libpython package"
    )


def _is_current(python_dir: Path, sources: list[Path]) -> bool:
    """Tell whether a prepared backend dir already holds every source file at the same size."""
    return all(
        (python_dir / src.name).is_file()
        and (python_dir / src.name).stat().st_size == src.stat().st_size
        for src in sources
    )


def _prepare_backend_dir(cache_dir: Path) -> Path:
    """Build (once) a backends dir whose python/ holds the backend and this Python's stub."""
    server_root = _pytriton_dir() / "tritonserver"
    py_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = server_root / "python_backend_stubs" / py_version / _STUB_NAME
    if not stub.is_file():
        raise TritonBinaryMissing(
            f"no Python backend stub for Python {py_version} at {stub}; {_install_hint()} "
            "(a release that ships a stub for this Python version)"
        )
    backend_src = server_root / "backends" / "python"
    sources = [p for p in sorted(backend_src.iterdir()) if p.is_file()] + [stub]
    # The key pins the wheel version and Python version, so upgrading either prepares a fresh dir.
    key = f"pytriton-{metadata.version(_DISTRIBUTION)}-py{py_version}"
    target = cache_dir / "backends" / key
    if _is_current(target / "python", sources):
        return target

    # Copy (not symlink) into a temp dir and rename it into place: the python backend looks for
    # the stub next to the library it loaded, and a concurrent or interrupted preparation must
    # never leave a half-filled dir.
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=target.parent))
    try:
        (staging / "python").mkdir()
        for src in sources:
            shutil.copy2(src, staging / "python" / src.name)
        if target.exists():
            shutil.rmtree(target)
        try:
            os.rename(staging, target)
        except OSError:
            # Another process won the race; its copy is as good as ours.
            if not _is_current(target / "python", sources):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def tritonserver_command(
    *,
    model_repository: Path,
    http_port: int,
    grpc_port: int,
    metrics_port: int,
    cache_dir: Path,
) -> tuple[list[str], dict[str, str]]:
    """Return argv and environment that start tritonserver on CPU with the Python backend."""
    binary = find_tritonserver()
    # cache_dir is ours to write (e.g. .cache/triton); the backends dir is prepared under it once.
    libs_dir = _bundled_libs_dir()
    backend_dir = _prepare_backend_dir(Path(cache_dir).resolve())
    libpython_dir = _libpython_dir()

    env = dict(os.environ)
    # The binary and the copied stub find their vendored .so files only through LD_LIBRARY_PATH:
    # the stub's RUNPATH is relative to its place in site-packages, which the copy no longer has.
    lib_path = [str(libs_dir)] + ([str(libpython_dir)] if libpython_dir else [])
    if env.get("LD_LIBRARY_PATH"):
        lib_path.append(env["LD_LIBRARY_PATH"])
    env["LD_LIBRARY_PATH"] = os.pathsep.join(lib_path)
    # The stub's embedded interpreter finds its prefix by searching PATH for `python3`; putting
    # this interpreter's (unresolved, so venv) bin dir first makes models import this venv's
    # packages.
    env["PATH"] = os.pathsep.join(filter(None, [str(Path(sys.executable).parent), env.get("PATH")]))
    # A stray PYTHONHOME would override that lookup and load another installation's site-packages.
    env.pop("PYTHONHOME", None)

    argv = [
        str(binary),
        f"--model-repository={Path(model_repository).resolve()}",
        f"--backend-directory={backend_dir}",
        "--model-control-mode=none",
        f"--http-port={http_port}",
        f"--grpc-port={grpc_port}",
        f"--metrics-port={metrics_port}",
        "--allow-gpu-metrics=false",
        "--log-verbose=0",
    ]
    return argv, env
