"""The semantic answer cache's threshold, chosen on a labelled paraphrase set.

Every pair of evaluation/answers/paraphrases.jsonl is two questions that should share an
answer (`same_answer: true`: a light `rewording` or a `rephrasing` in other words) or should
not (`near_miss`: the same words, a different ask). Both are embedded by the platform's
embedding model (Triton's `text_embedding`, all-MiniLM-L6-v2 int8, the model generation
embeds questions with). At each threshold a pair is a cache hit under the cache's own rule
(cosine similarity at least the threshold AND the same content words,
`generation_service.core.semantic.content_terms`), and, for comparison, under cosine alone:

- hit rate: the share of same-answer pairs that hit (the paraphrase is served the answer);
- wrong-hit rate: the share of near-miss pairs that hit (a wrong answer is served).

It prints both per threshold and per kind, draws them as a PNG, and names the threshold:
the best hit rate whose wrong-hit rate is at most --max-wrong-hit-rate, and of the
thresholds that reach it the highest (the most conservative).

    .venv/bin/python evaluation/semantic_cache_eval.py [--triton-url host:port] [--chart PNG]

Without --triton-url it starts a Triton of its own from the model repository (`make models`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generation_service.core.semantic import content_terms

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAIRS = ROOT / "evaluation" / "answers" / "paraphrases.jsonl"
DEFAULT_CHART = ROOT / "evaluation" / "results" / "semantic-cache.png"
THRESHOLDS = tuple(round(0.60 + 0.01 * i, 2) for i in range(40))


@dataclass(frozen=True)
class Pair:
    """Two questions and whether they should share an answer."""

    a: str
    b: str
    same_answer: bool
    source: str
    kind: str


@dataclass(frozen=True)
class Rates:
    """Hit and wrong-hit rates at one threshold."""

    threshold: float
    hit_rate: float
    wrong_hit_rate: float
    hits: int
    wrong_hits: int


def load_pairs(path: Path = DEFAULT_PAIRS) -> list[Pair]:
    """The labelled pairs of a JSONL file."""
    pairs = []
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            pairs.append(
                Pair(row["a"], row["b"], bool(row["same_answer"]), row["source"], row["kind"])
            )
    return pairs


def rates(
    similarities: np.ndarray, same: np.ndarray, threshold: float, *, allowed: np.ndarray
) -> Rates:
    """Hit rate over same-answer pairs and wrong-hit rate over the others, at `threshold`;
    pairs not `allowed` (different content words under the cache's rule) never hit."""
    hit = (similarities >= threshold) & allowed
    hits = int(np.sum(hit & same))
    wrong = int(np.sum(hit & ~same))
    return Rates(
        threshold=threshold,
        hit_rate=hits / max(int(np.sum(same)), 1),
        wrong_hit_rate=wrong / max(int(np.sum(~same)), 1),
        hits=hits,
        wrong_hits=wrong,
    )


def choose_threshold(curve: list[Rates], *, max_wrong_hit_rate: float) -> Rates:
    """The best hit rate within the wrong-hit bound, at the highest threshold that reaches it."""
    allowed = [r for r in curve if r.wrong_hit_rate <= max_wrong_hit_rate]
    if not allowed:
        raise ValueError(f"no threshold keeps the wrong-hit rate within {max_wrong_hit_rate}")
    best = max(r.hit_rate for r in allowed)
    return max((r for r in allowed if r.hit_rate == best), key=lambda r: r.threshold)


def same_terms(pairs: list[Pair]) -> np.ndarray:
    """Whether each pair's questions have the same content words (the cache's guard)."""
    return np.array([content_terms(p.a) == content_terms(p.b) for p in pairs])


def pair_similarities(pairs: list[Pair], vectors: dict[str, np.ndarray]) -> np.ndarray:
    """Cosine similarity of each pair's two questions."""

    def unit(v: np.ndarray) -> np.ndarray:
        return v / np.linalg.norm(v)

    return np.array([float(unit(vectors[p.a]) @ unit(vectors[p.b])) for p in pairs])


async def _embed(url: str, texts: list[str]) -> np.ndarray:
    from platform_triton import TritonEmbeddingClient

    client = TritonEmbeddingClient(url=url, timeout_s=60.0)
    try:
        return await client.embed(texts)
    finally:
        await client.close()


def embed_questions(texts: list[str], triton_url: str | None) -> dict[str, np.ndarray]:
    """Each question's vector from Triton's embedding model (a Triton of our own if no URL)."""
    if triton_url:
        return dict(zip(texts, asyncio.run(_embed(triton_url, texts)), strict=True))
    from platform_stack import Stack, StackConfig

    with tempfile.TemporaryDirectory() as state:
        config = StackConfig.from_env().with_free_ports(Path(state))
        stack = Stack(config)
        config.logs_dir.mkdir(parents=True, exist_ok=True)
        emit("starting Triton ...")
        stack.start_component("triton")
        try:
            vectors = asyncio.run(_embed(config.address("triton"), texts))
        finally:
            stack.stop()
    return dict(zip(texts, vectors, strict=True))


def draw(curve: list[Rates], cosine_only: list[Rates], chosen: Rates, path: Path) -> None:
    """Hit and wrong-hit rate over the thresholds, the chosen one marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r.threshold for r in curve]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(xs, [r.hit_rate for r in curve], "C0.-", label="hit rate (cache rule)")
    ax.plot(xs, [r.wrong_hit_rate for r in curve], "C3.-", label="wrong-hit rate (cache rule)")
    ax.plot(xs, [r.hit_rate for r in cosine_only], "C0:", label="hit rate (cosine alone)")
    ax.plot(
        xs, [r.wrong_hit_rate for r in cosine_only], "C3:", label="wrong-hit rate (cosine alone)"
    )
    ax.axvline(chosen.threshold, color="grey", linestyle="--", label=f"chosen {chosen.threshold}")
    ax.set_xlabel("cosine similarity threshold")
    ax.set_ylabel("share of pairs")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Semantic answer cache: all-MiniLM-L6-v2 int8, labelled paraphrase pairs")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def emit(text: str) -> None:
    """Progress and results on stdout (this is a command-line report)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS, help="labelled pairs")
    parser.add_argument("--chart", type=Path, default=DEFAULT_CHART, help="PNG to write")
    parser.add_argument("--triton-url", default=None, help="a running Triton's gRPC host:port")
    parser.add_argument("--max-wrong-hit-rate", type=float, default=0.02)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Embed, compute the curve, choose, print and draw."""
    args = parse_args(argv)
    pairs = load_pairs(args.pairs)
    texts = sorted({q for p in pairs for q in (p.a, p.b)})
    vectors = embed_questions(texts, args.triton_url)
    similarities = pair_similarities(pairs, vectors)
    same = np.array([p.same_answer for p in pairs])
    guard = same_terms(pairs)
    anything = np.ones(len(pairs), dtype=bool)
    curve = [rates(similarities, same, t, allowed=guard) for t in THRESHOLDS]
    cosine_only = [rates(similarities, same, t, allowed=anything) for t in THRESHOLDS]
    chosen = choose_threshold(curve, max_wrong_hit_rate=args.max_wrong_hit_rate)
    kinds = np.array([p.kind for p in pairs])
    counts = ", ".join(f"{k} {int(np.sum(kinds == k))}" for k in sorted(set(kinds)))
    emit(f"{len(pairs)} pairs: {counts}")
    emit(
        "| threshold | hit rate | wrong-hit rate | rewordings hit | rephrasings hit "
        "| cosine alone: hit rate | cosine alone: wrong-hit rate |"
    )
    emit("|---|---|---|---|---|---|---|")
    for r, c in zip(curve, cosine_only, strict=True):
        hit = (similarities >= r.threshold) & guard
        by_kind = [float(np.mean(hit[kinds == k])) for k in ("rewording", "rephrasing")]
        mark = " **chosen**" if r is chosen else ""
        emit(
            f"| {r.threshold:.2f}{mark} | {r.hit_rate:.3f} | {r.wrong_hit_rate:.3f} "
            f"| {by_kind[0]:.3f} | {by_kind[1]:.3f} | {c.hit_rate:.3f} | {c.wrong_hit_rate:.3f} |"
        )
    emit("\nnear misses served under the cache rule at the chosen threshold:")
    for i in np.flatnonzero((similarities >= chosen.threshold) & guard & ~same):
        emit(f"  {similarities[i]:.3f}  {pairs[i].a} | {pairs[i].b}")
    emit("closest near misses by cosine (similarity, a | b):")
    for i in np.argsort(-np.where(same, -np.inf, similarities))[:8]:
        emit(f"  {similarities[i]:.3f}  {pairs[i].a} | {pairs[i].b}")
    emit("farthest paraphrases:")
    for i in np.argsort(np.where(same, similarities, np.inf))[:8]:
        emit(f"  {similarities[i]:.3f}  {pairs[i].a} | {pairs[i].b}")
    draw(curve, cosine_only, chosen, args.chart)
    emit(
        f"\nchosen threshold {chosen.threshold}: hit rate {chosen.hit_rate:.3f}, wrong-hit "
        f"rate {chosen.wrong_hit_rate:.3f}; chart {args.chart}"
    )


if __name__ == "__main__":
    main()
