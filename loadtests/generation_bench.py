"""Benchmark a Triton language model: time to first token and decode tokens/s, in-process vs Triton.

Both sides run the same GGUF with the settings of the served config.pbtxt (n_ctx, threads). The
baseline is llama.cpp in this process (xllamacpp, no Triton); the Triton row streams over gRPC
from a tritonserver that serves that model alone (text_generation; --model picks another). Every
run sends a ~300-token prompt that differs from the others in its first words, so llama.cpp's
prompt cache cannot skip the prefill.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO_ROOT / "services" / "generation" / "engine" / "build_engine.py"
READY_TIMEOUT_S = 120.0
MODEL_TITLE = {
    "smollm2": "SmolLM2-135M-Instruct Q4_1",
    "qwen2.5-coder-0.5b": "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
}
MAKE_TARGET = {"qwen2.5-coder-0.5b": "make models-qwen"}
BASELINE = "llama.cpp in-process (xllamacpp) — baseline"
TRITON = "Triton gRPC stream"
PARAGRAPH = (
    "The harbour town wakes before dawn. Fishing boats slip past the breakwater while the bakery "
    "on the quay lights its ovens, and the first ferry of the day waits for the tide to turn."
)
INSTRUCTION = "Summarize the text above in detail, sentence by sentence."

from platform_stack.config import free_ports  # noqa: E402
from platform_triton import GenerationUsage, TritonGenerationClient  # noqa: E402
from platform_triton.server import tritonserver_command  # noqa: E402


@dataclass(frozen=True)
class Run:
    """One streamed completion."""

    ttft_s: float
    decode_tokens_per_s: float
    prompt_tokens: int
    completion_tokens: int


def load_module(name: str, path: Path) -> ModuleType:
    """Import a module from a file path (scripts are not packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def prompt(run: int) -> str:
    """A ~300-token user message whose first words differ per run."""
    return f"Text number {run}.\n" + " ".join([PARAGRAPH] * 7) + "\n\n" + INSTRUCTION


def config_parameters(model_dir: Path) -> dict[str, str]:
    """The string parameters of the built config.pbtxt."""
    text = (model_dir / "config.pbtxt").read_text()
    pairs = re.findall(r'key:\s*"(\w+)"\s*value:\s*\{\s*string_value:\s*"([^"]*)"', text)
    return dict(pairs)


def set_parameter(model_dir: Path, key: str, value: str) -> None:
    """Rewrite one string parameter of the built config.pbtxt (this run's copy only)."""
    path = model_dir / "config.pbtxt"
    pattern = rf'(key:\s*"{key}"\s*value:\s*\{{\s*string_value:\s*")[^"]*"'
    text, count = re.subn(pattern, rf'\g<1>{value}"', path.read_text())
    if count != 1:
        raise RuntimeError(f"config.pbtxt has no parameter {key}")
    path.write_text(text)


def cpu_busy(seconds: float) -> float:
    """Cores busy (user+system+...) over the next `seconds`, from /proc/stat."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(1, total1 - total0) * (os.cpu_count() or 1)


def summarize(token_times: Sequence[float], started: float, usage: GenerationUsage) -> Run:
    """TTFT and the decode rate between the first and the last token."""
    decode_s = token_times[-1] - token_times[0]
    return Run(
        ttft_s=token_times[0] - started,
        decode_tokens_per_s=(len(token_times) - 1) / decode_s if decode_s > 0 else 0.0,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
    )


def in_process_server(model_dir: Path, params: dict[str, str]) -> object:
    """llama.cpp in this process with the served settings: the baseline."""
    import xllamacpp

    p = xllamacpp.CommonParams()
    p.model.path = str(model_dir / "1" / params["model_file"])
    p.n_ctx = int(params["n_ctx"])
    p.n_parallel = 1
    p.cpuparams.n_threads = int(params["n_threads"])
    p.cpuparams_batch.n_threads = int(params["n_threads_batch"])
    p.port = 0
    p.verbosity = -1
    return xllamacpp.Server(p)


def in_process_run(server: object, run: int, max_tokens: int) -> Run:
    """One streamed completion straight from llama.cpp."""
    times: list[float] = []
    usage: dict[str, int] = {}

    def on_chunk(chunk: dict) -> bool:
        for choice in chunk.get("choices") or ():
            if (choice.get("delta") or {}).get("content"):
                times.append(time.monotonic())
        usage.update(chunk.get("usage") or {})
        return False

    body = {
        "messages": [{"role": "user", "content": prompt(run)}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = time.monotonic()
    server.handle_chat_completions(body, on_chunk)
    final = GenerationUsage(usage["prompt_tokens"], usage["completion_tokens"], "")
    return summarize(times, started, final)


@contextlib.contextmanager
def running_triton(repository: Path, cache_dir: Path) -> Iterator[str]:
    """Start tritonserver on free ports with the repository's one model; yield its address."""
    http, grpc_port, metrics = free_ports(3)
    argv, env = tritonserver_command(
        model_repository=repository,
        http_port=http,
        grpc_port=grpc_port,
        metrics_port=metrics,
        cache_dir=cache_dir,
    )
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not _ready(f"http://127.0.0.1:{http}/v2/health/ready"):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"tritonserver did not start:\n{log.read()[-4000:]!r}")
                time.sleep(0.2)
            yield f"127.0.0.1:{grpc_port}"
        finally:
            process.terminate()
            process.wait(timeout=60)


def _ready(url: str) -> bool:
    """Whether Triton answers ready."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


async def triton_run(client: TritonGenerationClient, run: int, max_tokens: int) -> Run:
    """The same prompt streamed through Triton's gRPC stream."""
    times: list[float] = []
    started = time.monotonic()
    async for item in client.stream(prompt(run), max_tokens=max_tokens, temperature=0):
        if isinstance(item, GenerationUsage):
            return summarize(times, started, item)
        times.append(time.monotonic())
    raise RuntimeError("stream ended without usage")


async def measure(url: str, server: object, args: argparse.Namespace) -> dict[str, list[Run]]:
    """Alternate baseline and Triton runs, so both see the same drift in the machine's load."""
    client = TritonGenerationClient(url=url, model=args.triton_model)
    rows: dict[str, list[Run]] = {BASELINE: [], TRITON: []}
    try:
        # Warm-up (run 0): pages the file in and opens the channel.
        in_process_run(server, 0, args.max_tokens)
        await triton_run(client, 0, args.max_tokens)
        for run in range(1, args.runs + 1):
            rows[BASELINE].append(in_process_run(server, run, args.max_tokens))
            rows[TRITON].append(await triton_run(client, run, args.max_tokens))
    finally:
        await client.close()
    return rows


def p50(runs: Sequence[Run], key: Callable[[Run], float]) -> float:
    """Median of one measure."""
    return statistics.median(key(r) for r in runs)


def markdown(rows: dict[str, list[Run]], args: argparse.Namespace, load: dict) -> str:
    """The result table with the command and the machine's load."""
    baseline = rows[BASELINE]
    lines = [
        "| engine | TTFT p50 s | decode tok/s p50 | TTFT ratio | decode ratio "
        "| prompt tok | completion tok |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in rows.items():
        lines.append(
            f"| {name} | {p50(runs, lambda r: r.ttft_s):.2f} "
            f"| {p50(runs, lambda r: r.decode_tokens_per_s):.1f} "
            f"| {p50(runs, lambda r: r.ttft_s) / p50(baseline, lambda r: r.ttft_s):.2f} "
            f"| {p50(runs, lambda r: r.decode_tokens_per_s) / p50(baseline, lambda r: r.decode_tokens_per_s):.2f} "  # noqa: E501
            f"| {p50(runs, lambda r: r.prompt_tokens):.0f} "
            f"| {p50(runs, lambda r: r.completion_tokens):.0f} |"
        )
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", *sys.argv])
    per_run = "; ".join(
        f"{name.split(' ')[0]}: "
        + ", ".join(f"{r.ttft_s:.2f} s/{r.decode_tokens_per_s:.0f} tok/s" for r in runs)
        for name, runs in rows.items()
    )
    return "\n".join(
        [
            "# Generation benchmark (one run)",
            "",
            f"Reproduce: `{command}` (after `{MAKE_TARGET.get(args.model, 'make models')}`). "
            "Machine: {os.cpu_count()} vCPUs, "
            f"{platform.machine()}, no GPU. Load before: loadavg {load['loadavg']}, "
            f"{load['busy_before']:.2f} cores busy with other work over 3 s (idle = 0).",
            "",
            f"{MODEL_TITLE.get(args.model, args.model)} (Triton model {args.triton_model}), "
            f"n_ctx {load['n_ctx']}, decode threads "
            f"{load['n_threads']}, prompt threads {load['n_threads_batch']}, greedy, "
            f"max_tokens {args.max_tokens}, {args.runs} runs each (p50).",
            "",
            *lines,
            "",
            f"Per run (TTFT/decode): {per_run}.",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Build the model, measure in-process then through Triton, print (and write) markdown."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument(
        "--n-threads-batch", type=int, help="prompt threads (default: config.pbtxt's)"
    )
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    parser.add_argument(
        "--model",
        default="smollm2",
        help="the packaged GGUF model, as build_engine.py --model names it "
        "(qwen2.5-coder-0.5b needs `make models-qwen` first)",
    )
    args = parser.parse_args(argv)
    load = {"loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3])}
    load["busy_before"] = cpu_busy(3.0)
    with tempfile.TemporaryDirectory() as tmp:
        # A repository with this model only: the embedding model would share the cores.
        build_engine = load_module("build_engine", BUILD_SCRIPT)
        model = build_engine.MODELS[args.model]
        repository = build_engine.build(Path(tmp), model)
        model_dir = repository / model.triton_name
        args.triton_model = model.triton_name
        if args.n_threads_batch is not None:
            set_parameter(model_dir, "n_threads_batch", str(args.n_threads_batch))
        params = config_parameters(model_dir)
        load.update(params)
        server = in_process_server(model_dir, params)
        with running_triton(repository, REPO_ROOT / ".cache" / "triton") as url:
            rows = asyncio.run(measure(url, server, args))
    text = markdown(rows, args, load)
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
