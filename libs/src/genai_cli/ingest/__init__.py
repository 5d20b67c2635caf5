"""`genai ingest PATH... --tenant T`: files and folders to documents, sent through Kafka and
confirmed end to end, with a summary of what was indexed, reused, rejected and why."""

from __future__ import annotations

import re
import sys
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from contracts import topics
from contracts.events import TENANT_PATTERN
from genai_cli.errors import CliError
from genai_cli.ingest.confirm import Waiter
from genai_cli.ingest.files import (
    Prepared,
    Rejection,
    SourceFile,
    prepare,
    walk,
)
from genai_cli.ingest.summary import IngestReport, format_report
from genai_cli.kafka import check_topics, make_producer, resolve_bootstrap

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from confluent_kafka import KafkaError, Message, Producer

__all__ = ("add_parser", "run")

_DESCRIPTION = f"""\
Send every file named, or found in a folder named, as one document of TENANT to
{topics.DOCUMENTS_BACKFILL} (--live: {topics.DOCUMENTS_SUBMITTED}), then wait for each one's
confirmation on {topics.DOCUMENTS_INDEXED} or its dead letter, and print a summary.
Exits 1 when anything was rejected or not confirmed.

Media type by extension: .txt .text text/plain, .md .markdown text/markdown, .html .htm
text/html, .json application/json, .csv text/csv, .pdf application/pdf, .docx DOCX.
Text formats go as `text` when valid UTF-8, else as base64 `content`; PDF and DOCX always
as `content`. Other extensions, empty files and files over the contract's limits are
refused here with the reason and never sent. A folder's hidden entries (.git, .env) are
skipped.

Document id: the file's path relative to the argument it was found under (a file argument:
its name), with `/` between folders. When that does not fit [A-Za-z0-9._:/-]{{1,256}}, every
run of other characters becomes `_`, it is cut to fit, and `-` plus 10 hex digits of the
SHA-256 of the path is appended: `My notes/été.md` -> `My_notes/_t_.md-<hash>`.
Title: the file name (HTML: its <title>). Source: the absolute path, or --source-prefix
followed by the relative path. Version: the file's mtime in nanoseconds, so re-ingesting
unchanged files sends the same version and re-embeds nothing.
"""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `ingest`."""
    import argparse

    parser = commands.add_parser(
        "ingest",
        help="index files and folders, confirmed end to end",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", metavar="PATH", nargs="+", type=Path)
    parser.add_argument("--tenant", "-t", required=True, help="tenant that owns the documents")
    parser.add_argument(
        "--groups",
        default="",
        metavar="G1,G2",
        help="access groups allowed to read them (default: the whole tenant)",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help=f"send to {topics.DOCUMENTS_SUBMITTED}, ahead of backfills (default: "
        f"{topics.DOCUMENTS_BACKFILL})",
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="send, then exit without waiting for confirmations"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="stop waiting when no document has been settled for S seconds (default 120)",
    )
    parser.add_argument(
        "--source-prefix", metavar="URL", help="source = URL + relative path (default: the path)"
    )
    parser.add_argument("--bootstrap", "-b", metavar="HOST:PORT", help="Kafka bootstrap servers")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Walk, send, wait, summarise."""
    if not re.fullmatch(TENANT_PATTERN, args.tenant):
        raise CliError(f"--tenant {args.tenant!r} does not match {TENANT_PATTERN}")
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    topic = topics.DOCUMENTS_SUBMITTED if args.live else topics.DOCUMENTS_BACKFILL
    files = walk(args.paths)
    bootstrap = resolve_bootstrap(args.bootstrap)
    producer = make_producer(bootstrap)
    if not check_topics(producer, bootstrap, [topic]):
        raise CliError(
            f"no topic {topic} on {bootstrap}: nothing consumes it there yet"
            + ("" if args.live else "; --live sends to " + topics.DOCUMENTS_SUBMITTED)
        )
    report = IngestReport(topic=topic, waited=not args.no_wait, timeout_s=args.timeout)
    waiter = None if args.no_wait else Waiter(bootstrap, tenant=args.tenant)
    try:
        if waiter:
            waiter.start()  # before the first send: only this run's records count
        started = time.monotonic()
        to_payload = partial(
            prepare, tenant=args.tenant, groups=groups, source_prefix=args.source_prefix
        )
        sent = _send(producer, topic, files, report, to_payload)
        if waiter and sent:
            with tqdm(
                total=len(sent), desc="confirmed", unit="doc", file=sys.stderr, disable=None
            ) as bar:
                confirmed, dead = waiter.wait(
                    {d: v for d, (v, _) in sent.items()},
                    idle_timeout_s=args.timeout,
                    on_settled=lambda: bar.update(1),
                )
            report.confirmed = confirmed
            report.rejected += [
                Rejection(sent[d][1], r.error_type, r.reason, r.where) for d, r in dead.items()
            ]
            report.unconfirmed = {
                d: name for d, (_, name) in sent.items() if d not in confirmed and d not in dead
            }
        report.elapsed_s = time.monotonic() - started
    finally:
        if waiter:
            waiter.close()
    print(format_report(report))  # noqa: T201 - CLI output
    return report.exit_code


def _send(
    producer: Producer,
    topic: str,
    files: list[SourceFile],
    report: IngestReport,
    to_payload: Callable[[SourceFile], Prepared | Rejection],
) -> dict[str, tuple[int, str]]:
    """Produce every file that passes the contract; returns id -> (version, name) acknowledged."""
    acknowledged: dict[str, tuple[int, str]] = {}
    seen: dict[str, str] = {}
    with tqdm(total=len(files), desc="sent", unit="doc", file=sys.stderr, disable=None) as bar:

        def delivered(doc: Prepared) -> object:
            def callback(err: KafkaError | None, _: Message) -> None:
                if err is None:
                    acknowledged[doc.document_id] = (doc.version, doc.name)
                    report.sent += 1
                else:
                    report.rejected.append(Rejection(doc.name, "not_sent", err.str()))
                bar.update(1)

            return callback

        for source in files:
            doc = to_payload(source)
            if isinstance(doc, Prepared) and doc.document_id in seen:
                doc = Rejection(
                    doc.name, "duplicate_id", f"id {doc.document_id} is {seen[doc.document_id]}'s"
                )
            if isinstance(doc, Rejection):
                report.rejected.append(doc)
                bar.update(1)
                continue
            seen[doc.document_id] = doc.name
            producer.produce(topic, doc.value, doc.document_id.encode(), on_delivery=delivered(doc))
            producer.poll(0)
        if producer.flush(60) > 0:
            raise CliError("the broker did not acknowledge every document within 60 s")
    return acknowledged
