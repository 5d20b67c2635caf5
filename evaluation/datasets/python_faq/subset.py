"""Cut a fixed, small subset of the python-faq dataset (BEIR layout) for the regression gate.

Queries are taken in the order of the SHA-256 of their id, each with every document judged for
it, as long as the judged documents fit a byte budget; then distractor sections (judged for no
kept query) are added in the order of the SHA-256 of their id, short ones only, up to a count.
Rows are copied byte for byte from the full dataset, so the subset is deterministic: the same
full build always gives the same files. See tests/fixtures/python-faq-subset/README.md.

    .venv/bin/python evaluation/datasets/python_faq/subset.py [FULL] [OUT]

FULL defaults to .cache/datasets/python-faq (build.py's output), OUT to
tests/fixtures/python-faq-subset. Writes OUT/corpus.jsonl, OUT/queries.jsonl, OUT/qrels/test.tsv
and OUT/manifest.json; leaves anything else in OUT (the README) alone.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Cut", "Subset", "cut", "write"]

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_FULL = ROOT / ".cache" / "datasets" / "python-faq"
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "python-faq-subset"


@dataclass(frozen=True)
class Cut:
    """How the subset is cut; written to the manifest, so a re-cut can be checked."""

    queries: int = 28  # queries kept
    judged_budget_chars: int = 700_000  # title + text of the union of their judged documents
    distractors: int = 200  # unjudged sections added
    distractor_max_chars: int = 3_000  # only sections at most this long


@dataclass(frozen=True)
class Subset:
    """The kept rows, as the full dataset's JSON lines and qrels rows."""

    corpus: list[str]  # corpus.jsonl lines, sorted by id
    queries: list[str]  # queries.jsonl lines, sorted by id
    qrels: list[tuple[str, str, int]]  # sorted
    judged: int  # corpus rows judged for a kept query
    skipped_queries: int  # taken in hash order but over the budget


def _rank(identifier: str) -> str:
    return hashlib.sha256(identifier.encode()).hexdigest()


def _lines(path: Path) -> dict[str, str]:
    rows = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                rows[json.loads(line)["_id"]] = line.rstrip("\n")
    return rows


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as lines:
        for row in csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row and row[0] != "query-id":
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def cut(full: Path, spec: Cut) -> Subset:
    """The subset of the BEIR folder `full` that `spec` describes."""
    corpus = _lines(full / "corpus.jsonl")
    queries = _lines(full / "queries.jsonl")
    qrels = _read_qrels(full / "qrels" / "test.tsv")
    size = {
        d: len(json.loads(line)["title"]) + len(json.loads(line)["text"])
        for d, line in corpus.items()
    }
    judged_ids = [q for q in qrels if q in queries and any(g >= 1 for g in qrels[q].values())]
    kept: list[str] = []
    judged: set[str] = set()
    skipped = 0
    for query in sorted(judged_ids, key=_rank):
        if len(kept) == spec.queries:
            break
        union = judged | set(qrels[query])
        if sum(size[d] for d in union) > spec.judged_budget_chars:
            skipped += 1  # a query judging big sections (e.g. all built-in functions)
            continue
        kept.append(query)
        judged = union
    distractors: list[str] = []
    for document in sorted(corpus, key=_rank):
        if len(distractors) == spec.distractors:
            break
        if document not in judged and size[document] <= spec.distractor_max_chars:
            distractors.append(document)
    return Subset(
        corpus=[corpus[d] for d in sorted(judged | set(distractors))],
        queries=[queries[q] for q in sorted(kept)],
        qrels=sorted((q, d, g) for q in kept for d, g in qrels[q].items()),
        judged=len(judged),
        skipped_queries=skipped,
    )


def write(subset: Subset, out: Path, *, spec: Cut, source: dict[str, object]) -> None:
    """Write the BEIR files and a manifest into `out`."""
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    (out / "corpus.jsonl").write_text("".join(f"{r}\n" for r in subset.corpus), encoding="utf-8")
    (out / "queries.jsonl").write_text("".join(f"{r}\n" for r in subset.queries), encoding="utf-8")
    rows = ["query-id\tcorpus-id\tscore", *(f"{q}\t{d}\t{g}" for q, d, g in subset.qrels)]
    (out / "qrels" / "test.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    manifest = {
        "source": source,
        "cut": asdict(spec),
        "summary": {
            "queries": len(subset.queries),
            "documents": len(subset.corpus),
            "judged_documents": subset.judged,
            "distractors": len(subset.corpus) - subset.judged,
            "qrels_grade_2": sum(g == 2 for _, _, g in subset.qrels),
            "qrels_grade_1": sum(g == 1 for _, _, g in subset.qrels),
            "queries_over_budget": subset.skipped_queries,
            "corpus_bytes": sum(len(r.encode()) + 1 for r in subset.corpus),
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Cut, write, print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("full", nargs="?", type=Path, default=DEFAULT_FULL, help="full dataset")
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    if not (args.full / "corpus.jsonl").is_file():
        sys.exit(f"{args.full}/corpus.jsonl not found: run build.py first")
    spec = Cut()
    full_manifest = args.full / "manifest.json"
    source = json.loads(full_manifest.read_text())["source"] if full_manifest.is_file() else {}
    subset = cut(args.full, spec)
    write(subset, args.out, spec=spec, source=source)
    summary = json.loads((args.out / "manifest.json").read_text())["summary"]
    for key, value in summary.items():
        sys.stdout.write(f"{key:>20}: {value}\n")


if __name__ == "__main__":
    main()
