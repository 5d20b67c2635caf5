"""`genai eval answers`: answer quality of the running platform per prompt version (engine) and
routing policy, on the sample corpus and on the Python manual's FAQ, through the public API."""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.events import TENANT_PATTERN
from genai_cli.errors import CliError
from genai_cli.eval.answer_report import answers_console_table, answers_markdown
from genai_cli.eval.ask import Asker, RunSpec
from genai_cli.eval.corpus import CorpusDocument, corpus_documents, push_corpus
from genai_cli.ingest.files import document_id_for
from genai_cli.kafka import resolve_bootstrap
from platform_stack.config import StackConfig, repo_root

if TYPE_CHECKING:
    import argparse

__all__ = ("ACME_GROUPS", "SETS", "add_answers_parser", "run_answers")

SETS = ("acme", "python-faq")
ROUTES = ("auto", "documents", "calculator")
#: The engine "policy": no prompt pinned, so the server's tier policy (GENERATION_TIERS) picks
#: the prompt per question; each answer records which.
POLICY = "policy"
#: Two sample documents are engineering-only: this principal sees all 12.
ACME_GROUPS = ("engineering",)
_DEFAULT_FAQ = Path(".cache/datasets/python-faq")

_DESCRIPTION = """\
Measure answer quality as a user of the platform meets it: every question of each set is asked
through Assistant.Ask (bypass_cache) once per prompt version (engine) and routing policy, and
every answer is scored with boolean checks (evaluation/answer_checks.py):

  cites relevant doc   it cites a document labelled relevant to the question
  contains fact        it contains the expected fact (normalized substring, any of a list)
  sentences supported  every sentence's content words are mostly in the passages it cites
  says not found       it declines a question that the corpus cannot answer

Sets: acme (examples/documents: 40 labelled questions, 14 unanswerable, 6 arithmetic; tenant
eval-acme) and python-faq (the BEIR folder of evaluation/datasets/python_faq; tenant
eval-python-faq, indexed through the backfill topic as `genai eval retrieval` does). Each
corpus is pushed through the real pipeline first unless --no-ingest.
The stack is the one of $GENAI_* (as `genai up`), or --assistant and --bootstrap.
"""


def add_answers_parser(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `eval answers`."""
    import argparse

    answers = kinds.add_parser(
        "answers",
        help="answer quality per engine and routing policy",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    answers.add_argument(
        "--sets", default=",".join(SETS), metavar="S1,S2", help="question sets (default: both)"
    )
    answers.add_argument(
        "--engines",
        metavar="V1,V2",
        help="prompt versions to compare, and `policy` (nothing pinned: the server's tier policy "
        "chooses per question); default: every version ListPrompts returns",
    )
    answers.add_argument(
        "--routes",
        default="auto,documents",
        metavar="R1,R2",
        help="routing policies, of " + ", ".join(ROUTES) + " (default: auto,documents)",
    )
    answers.add_argument(
        "--faq-dir", type=Path, default=_DEFAULT_FAQ, metavar="DIR", help="python-faq BEIR folder"
    )
    answers.add_argument(
        "--limit", type=int, metavar="N", help="only the first N questions of each set"
    )
    answers.add_argument(
        "--faq-sample",
        type=int,
        metavar="N",
        help="only N python-faq questions, evenly spaced over their ids (default: all 87)",
    )
    answers.add_argument(
        "--no-ingest", action="store_true", help="the corpora are already indexed: ask only"
    )
    answers.add_argument(
        "--output", type=Path, metavar="FILE.md", help="write the table as a markdown fragment"
    )
    answers.add_argument(
        "--answers", type=Path, metavar="FILE.jsonl", help="write every answer and its checks"
    )
    answers.add_argument(
        "--assistant", metavar="HOST:PORT", help="Assistant gRPC address (default: the stack's)"
    )
    answers.add_argument("--bootstrap", "-b", metavar="HOST:PORT", help="Kafka bootstrap")
    answers.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="stop waiting when no document has been confirmed for S seconds (default 300)",
    )
    answers.set_defaults(handler=run_answers)


def run_answers(args: argparse.Namespace) -> int:
    """Index the corpora, ask every question per engine and route, score, report."""
    from genai_cli.eval import _evaluation_module  # the package imports this module

    checks = _evaluation_module("answer_checks")
    sets = _split(args.sets, SETS, "--sets")
    routes = _split(args.routes, ROUTES, "--routes")
    stack = StackConfig.from_env()
    asker = Asker(args.assistant or stack.address("generation"))
    try:
        listed = asker.prompt_versions()
        known = [version for version, _, _ in listed]
        engines = _split(args.engines, [*known, POLICY], "--engines") if args.engines else known
        questions = {name: _load_set(name, args) for name in sets}
        if not args.no_ingest:
            for name in sets:
                _ingest(name, args)
        summaries: dict[tuple[str, str, str], Any] = {}
        failures: dict[tuple[str, str, str], list[str]] = {}
        rows: list[dict[str, Any]] = []
        for name in sets:
            tenant, groups = _principal(name)
            pairs = [(q.id, q.question) for q in questions[name]]
            by_id = {q.id: q for q in questions[name]}
            for engine in engines:
                for route in routes:
                    spec = RunSpec(tenant, groups, engine, route)
                    scored = []
                    failed = []
                    for answer in asker.run(spec, pairs):
                        record = checks.AnswerRecord(
                            text=answer.text,
                            citations=answer.citations,
                            route=answer.route,
                            latency_ms=answer.latency_ms,
                            cost_usd=answer.cost_usd,
                        )
                        results = checks.score(record, by_id[answer.question_id])
                        scored.append((record, results))
                        if not all(results.values()):
                            missed = "+".join(c for c, ok in results.items() if not ok)
                            failed.append(f"{_short(answer.question_id)} ({missed})")
                        rows.append(_answer_row(name, spec, answer, results))
                    summaries[(name, engine, route)] = checks.summarize(engine, scored)
                    failures[(name, engine, route)] = failed
    finally:
        asker.close()
    print(answers_console_table(summaries))  # noqa: T201 - CLI output
    if args.answers:
        args.answers.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
        _say(f"wrote {args.answers}")
    if args.output:
        facts = _facts(questions, listed, engines)
        args.output.write_text(
            answers_markdown(
                summaries,
                facts=facts,
                command=_command(args),
                failures=failures,
                threshold=checks.SUPPORT_THRESHOLD,
            ),
            encoding="utf-8",
        )
        _say(f"wrote {args.output}")
    return 0


def _load_set(name: str, args: argparse.Namespace) -> list[Any]:
    from genai_cli.eval import _evaluation_module

    sets = _evaluation_module("answer_sets")
    if name == "acme":
        questions = sets.load_acme()
    else:
        beir = _evaluation_module("beir")
        try:
            dataset = beir.load_beir(args.faq_dir)
        except beir.BeirError as error:
            build = "evaluation/datasets/python_faq/build.py"
            raise CliError(f"{error} (build it with {build})") from error
        questions = sets.load_python_faq(
            dataset, document_id=document_id_for, sample=args.faq_sample
        )
    return questions[: args.limit] if args.limit is not None else questions


def _ingest(name: str, args: argparse.Namespace) -> None:
    """The set's corpus through the pipeline, every document confirmed (or refused)."""
    tenant, _ = _principal(name)
    version = time.time_ns()  # monotonic across runs, like `genai ingest`'s mtimes
    if name == "acme":
        documents = acme_documents(tenant=tenant, version=version)
        refused: dict[str, str] = {}
    else:
        from genai_cli.eval import _evaluation_module

        dataset = _evaluation_module("beir").load_beir(args.faq_dir)
        documents, refused = corpus_documents(
            {d.id: (d.title, d.text) for d in dataset.corpus.values()},
            tenant=tenant,
            version=version,
        )
    outcome = push_corpus(
        documents,
        bootstrap=resolve_bootstrap(args.bootstrap),
        tenant=tenant,
        version=version,
        idle_timeout_s=args.timeout,
    )
    outcome.rejected.update(refused)
    _say(
        f"{name}: indexed {outcome.confirmed:,} of {len(documents):,} documents "
        f"({outcome.chunks:,} chunks, {outcome.reused_chunks:,} re-used) in "
        f"{outcome.elapsed_s:.0f} s under tenant {tenant}"
    )
    if not outcome.confirmed:
        raise CliError(f"{name}: nothing was indexed")


def acme_documents(*, tenant: str, version: int) -> list[CorpusDocument]:
    """The sample documents of examples/documents as payloads of `tenant` at `version`."""
    if not re.fullmatch(TENANT_PATTERN, tenant):
        raise CliError(f"tenant {tenant!r} does not match {TENANT_PATTERN}")
    documents = []
    for path in sorted((repo_root() / "examples" / "documents").glob("*.json")):
        payload = json.loads(path.read_text(encoding="utf-8"))
        payload.update(tenant=tenant, version=version)
        value = json.dumps(payload, ensure_ascii=False).encode()
        documents.append(CorpusDocument(payload["id"], payload["id"], value))
    return documents


def _principal(name: str) -> tuple[str, tuple[str, ...]]:
    return (f"eval-{name}", ACME_GROUPS if name == "acme" else ())


def _split(value: str, allowed: Any, option: str) -> list[str]:
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in allowed]
    if unknown or not chosen:
        raise CliError(f"{option}: {', '.join(unknown) or 'none'}; known: {', '.join(allowed)}")
    return chosen


def _short(question_id: str) -> str:
    """python-faq ids are page#anchor: the anchor is enough to find it."""
    return question_id.rsplit("#", 1)[-1][:40]


def _answer_row(name: str, spec: RunSpec, answer: Any, results: dict[str, bool]) -> dict[str, Any]:
    return {
        "set": name,
        "engine": spec.prompt_version,
        "route_policy": spec.route,
        "question_id": answer.question_id,
        "answer": answer.text,
        "route": answer.route,
        "cited": sorted({d for d, _ in answer.citations.values()}),
        "checks": results,
        "latency_ms": round(answer.latency_ms, 1),
        "cost_usd": answer.cost_usd,
        "flags": answer.flags,
    }


def _facts(
    questions: dict[str, list[Any]], listed: list[tuple[str, list[str], str]], engines: list[str]
) -> list[str]:
    counted = "; ".join(
        f"{name}: {len(qs)} questions ({sum(bool(q.relevant) for q in qs)} with relevant "
        f"documents, {sum(bool(q.facts) for q in qs)} with an expected fact, "
        f"{sum(not q.answerable for q in qs)} unanswerable)"
        for name, qs in questions.items()
    )
    models = ", ".join(
        f"`{v}` ({model}{', ' + '/'.join(labels) if labels else ''})"
        for v, labels, model in listed
        if v in engines
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"Run {when} on {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; the whole embedded stack on the same machine.",
        f"Question sets: {counted}. Engines: {models}.",
    ]


def _command(args: argparse.Namespace) -> str:
    if sys.argv[1:3] == ["eval", "answers"]:
        return "genai " + shlex.join(["eval", "answers", *sys.argv[3:]])
    return f"genai eval answers --sets {args.sets} --routes {args.routes}"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)  # noqa: T201 - CLI progress
