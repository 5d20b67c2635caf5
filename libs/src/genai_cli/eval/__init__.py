"""`genai eval retrieval DATASET_DIR`: retrieval quality of the running platform on a dataset in
the BEIR layout, per fusion configuration, through the real pipeline and the public API."""

from __future__ import annotations

import importlib.util
import platform
import re
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts import topics
from contracts.events import TENANT_PATTERN
from genai_cli.errors import CliError
from genai_cli.eval.answers import add_answers_parser
from genai_cli.eval.configs import METHODS, parse_configs
from genai_cli.eval.corpus import IngestOutcome, corpus_documents, push_corpus
from genai_cli.eval.report import console_table, markdown_fragment, write_chart
from genai_cli.eval.search import TOP_K, run_queries
from genai_cli.kafka import resolve_bootstrap
from platform_stack.config import StackConfig, repo_root

if TYPE_CHECKING:
    import argparse
    from types import ModuleType

__all__ = ("add_parser", "run_retrieval")

DEFAULT_CONFIGS = "bm25,dense,rrf,dbsf"

_DESCRIPTION = f"""\
Measure retrieval quality on DATASET_DIR (BEIR layout: corpus.jsonl, queries.jsonl,
qrels/<split>.tsv), as a user of the platform would meet it:

1. every corpus entry goes through the real pipeline as one text/plain document of TENANT
   (its title kept; id: the corpus id, made to fit the id pattern as `genai ingest` does),
   sent to {topics.DOCUMENTS_BACKFILL}; the run waits for each {topics.DOCUMENTS_INDEXED}
   confirmation. Unchanged chunks re-use their stored vectors, so a rerun on the same
   tenant embeds nothing again;
2. every judged query is asked through Assistant.Search (top_k {TOP_K}) once per
   configuration, one at a time after one warm-up call;
3. passages are pooled to their document by max score (a re-scored response by rank: its
   reranker and fused scores are on two scales), and nDCG@10 (graded), Recall@10,
   Recall@100, MRR@10 and the p50/p95 Search latency are reported per configuration.

Configurations: {", ".join(METHODS)} ("default": whatever the server's default fusion is);
rrf, dbsf and default take a dense weight in [0, 1] after a colon: dbsf:0.7; any of them
followed by +rerank adds the second stage (the server's RETRIEVAL_RERANK_MODEL re-scores the
fused candidates): default+rerank, dbsf:0.6+rerank. A configuration without +rerank measures
the first stage alone ("default" leaves the second stage to the server's default).
The stack is the one of $GENAI_* (as `genai up`), or --assistant and --bootstrap.
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `eval` and its subcommands, `retrieval` and `answers`."""
    import argparse

    parser = commands.add_parser("eval", help="measure the platform on a dataset")
    kinds = parser.add_subparsers(dest="eval_kind", required=True, metavar="KIND")
    retrieval = kinds.add_parser(
        "retrieval",
        help="retrieval quality per fusion configuration (BEIR-layout data)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    retrieval.add_argument("dataset", metavar="DATASET_DIR", type=Path)
    retrieval.add_argument(
        "--tenant", "-t", help="tenant the corpus is indexed under (default: eval-<folder name>)"
    )
    retrieval.add_argument(
        "--configs",
        default=DEFAULT_CONFIGS,
        metavar="C1,C2",
        help=f"configurations to compare, in this order (default: {DEFAULT_CONFIGS})",
    )
    retrieval.add_argument(
        "--limit-queries", type=int, metavar="N", help="only the first N judged queries (by id)"
    )
    retrieval.add_argument("--split", default="test", help="qrels/<SPLIT>.tsv (default: test)")
    retrieval.add_argument(
        "--baseline",
        metavar="NAME",
        help="configuration the others are compared with, per query (default: rrf when "
        "measured, else the first)",
    )
    retrieval.add_argument(
        "--output", type=Path, metavar="FILE.md", help="write the table as a markdown fragment"
    )
    retrieval.add_argument("--chart", type=Path, metavar="FILE.png", help="write a bar chart")
    retrieval.add_argument(
        "--assistant", metavar="HOST:PORT", help="Assistant gRPC address (default: the stack's)"
    )
    retrieval.add_argument("--bootstrap", "-b", metavar="HOST:PORT", help="Kafka bootstrap")
    retrieval.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="stop waiting when no document has been confirmed for S seconds (default 300)",
    )
    retrieval.add_argument(
        "--no-ingest",
        action="store_true",
        help="do not send the corpus: ask against what an earlier run indexed under TENANT "
        "(a rerun re-sends every document, minutes on a busy machine even with every vector "
        "re-used)",
    )
    retrieval.set_defaults(handler=run_retrieval)
    add_answers_parser(kinds)


def run_retrieval(args: argparse.Namespace) -> int:
    """Index the corpus, ask every query per configuration, report."""
    beir, metrics = _evaluation_module("beir"), _evaluation_module("metrics")
    configs = parse_configs(args.configs)
    names = [c.name for c in configs]
    baseline = args.baseline or ("rrf" if "rrf" in names else names[0])
    if baseline not in names:
        raise CliError(f"--baseline {baseline!r} is not one of --configs ({', '.join(names)})")
    tenant = args.tenant or _default_tenant(args.dataset)
    if not re.fullmatch(TENANT_PATTERN, tenant):
        raise CliError(f"--tenant {tenant!r} does not match {TENANT_PATTERN}")
    try:
        dataset = beir.load_beir(args.dataset, split=args.split)
    except beir.BeirError as error:
        raise CliError(str(error)) from error
    queries = dataset.judged_queries()
    if args.limit_queries is not None:
        queries = queries[: max(args.limit_queries, 0)]
    if not queries:
        raise CliError(f"{args.dataset}: no query has a relevant document in {args.split}")
    stack = StackConfig.from_env()
    address = args.assistant or stack.address("generation")
    _say(f"{len(dataset.corpus):,} documents, {len(queries)} queries; tenant {tenant}")

    version = time.time_ns()  # monotonic across runs, like `genai ingest`'s mtimes
    documents, refused = corpus_documents(
        {d.id: (d.title, d.text) for d in dataset.corpus.values()}, tenant=tenant, version=version
    )
    if args.no_ingest:
        ingest = IngestOutcome(rejected=dict(refused))
        _say(f"--no-ingest: asking against what tenant {tenant} holds already")
    else:
        ingest = push_corpus(
            documents,
            bootstrap=resolve_bootstrap(args.bootstrap),
            tenant=tenant,
            version=version,
            idle_timeout_s=args.timeout,
        )
        ingest.rejected.update(refused)
        _say(
            f"indexed {ingest.confirmed:,} of {len(dataset.corpus):,} documents "
            f"({ingest.chunks:,} chunks, {ingest.reused_chunks:,} with re-used vectors) "
            f"in {ingest.elapsed_s:.0f} s"
        )
        for corpus_id, reason in list(ingest.rejected.items())[:10]:
            _say(f"  not indexed: {corpus_id}: {reason}")
        if not ingest.confirmed:
            raise CliError("nothing was indexed: no query can be answered")

    corpus_ids = {d.document_id: d.corpus_id for d in documents}
    summaries = []
    per_query: dict[str, list[float]] = {}
    for config in configs:
        answers = run_queries(address, config, [(q.id, q.text) for q in queries], tenant=tenant)
        if fell_back := sum(a.rerank_fallback for a in answers):
            _say(
                f"{config.name}: {fell_back} of {len(answers)} searches fell back to the fused "
                "order (the reranker failed or timed out: RETRIEVAL_RERANK_TIMEOUT_S)"
            )
        scores = [
            metrics.score_query(
                metrics.pool_by_document(
                    (corpus_ids.get(document, document), score) for document, score in a.passages
                ),
                dataset.relevant(a.query_id),
                a.latency_ms,
            )
            for a in answers
        ]
        summaries.append(metrics.summarize(config.name, scores))
        per_query[config.name] = [s.ndcg_at_10 for s in scores]
    differences = {
        name: metrics.paired_difference(values, per_query[baseline])
        for name, values in per_query.items()
        if name != baseline
    }
    print(console_table(summaries, differences, baseline))  # noqa: T201 - CLI output
    if args.output or args.chart:
        _write(
            args,
            summaries,
            dataset=dataset,
            queries=len(queries),
            ingest=ingest,
            differences=differences,
            baseline=baseline,
        )
    return 0


def _write(args: argparse.Namespace, summaries: list[Any], **run: Any) -> None:
    dataset, ingest = run["dataset"], run["ingest"]
    grades: dict[int, int] = {}
    for judged in dataset.qrels.values():
        for grade in judged.values():
            grades[grade] = grades.get(grade, 0) + 1
    judgements = ", ".join(f"{n:,} of grade {g}" for g, n in sorted(grades.items(), reverse=True))
    name = args.dataset.name
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    tenant = args.tenant or _default_tenant(args.dataset)
    indexed = (
        f"Corpus not sent (--no-ingest): asked against what an earlier run indexed under "
        f"tenant `{tenant}`."
        if args.no_ingest
        else f"Indexed {ingest.confirmed:,} documents as {ingest.chunks:,} chunks under tenant "
        f"`{tenant}`" + (f"; {len(ingest.rejected):,} not indexed" if ingest.rejected else "") + "."
    )
    facts = [
        f"Dataset `{name}`: {len(dataset.corpus):,} documents, {run['queries']} judged queries "
        f"(qrels/{args.split}.tsv: {judgements}). " + indexed,
        f"Run {when} on {platform.machine()}, Python {platform.python_version()}; the whole "
        "embedded stack on the same machine; latency is the client-side Search round trip "
        "(query embedding included, none for bm25), sequential calls.",
    ]
    command = (
        "genai " + shlex.join(["eval", "retrieval", *sys.argv[3:]])
        if sys.argv[1:3]
        == [
            "eval",
            "retrieval",
        ]
        else f"genai eval retrieval {shlex.quote(str(args.dataset))} --configs {args.configs}"
    )
    if args.output:
        args.output.write_text(
            markdown_fragment(
                summaries,
                heading=name,
                facts=facts,
                command=command,
                differences=run["differences"],
                baseline=run["baseline"],
            ),
            encoding="utf-8",
        )
        _say(f"wrote {args.output}")
    if args.chart:
        title = f"{name}: {len(dataset.corpus):,} documents, {run['queries']} queries"
        write_chart(summaries, args.chart, title=title)
        _say(f"wrote {args.chart}")


def _default_tenant(dataset: Path) -> str:
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", dataset.resolve().name.lower()).strip("-_")
    return f"eval-{cleaned}"[:64]


def _evaluation_module(name: str) -> ModuleType:
    """evaluation/<name>.py of this checkout: evaluation/ is a script folder, not a package."""
    path = repo_root() / "evaluation" / f"{name}.py"
    if not path.is_file():
        raise CliError(f"genai eval needs the repository checkout ({path} not found)")
    module_name = f"genai_evaluation_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)  # noqa: T201 - CLI progress
