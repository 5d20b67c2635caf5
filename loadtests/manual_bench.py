"""A real corpus end to end: Debian's python3.11-doc HTML manual through the embedded stack.

Not a test: run it by hand and paste the table into BENCHMARKS.md.

    .venv/bin/python loadtests/manual_bench.py [--searches 50] [--output F] [--logs DIR]

Set-up: installs Debian's `python3.11-doc` (apt-get update, then apt-get install) when
/usr/share/doc/python3.11/html is missing; needs root. Every content page of the manual
becomes one document (text/html, id = its path under html/, title = its <title>, source =
its docs.python.org URL), sent in a fixed shuffled order to the backfill topic.

Every figure comes with a baseline measured in the same run, on a fresh stack on free ports:
- engine: the exact passage texts the pipeline will embed (ingestion's own parser and
  chunker, run here), sent straight to the stack's Triton while the stack is idle;
- pipeline: Kafka -> ingestion -> embedding (Triton) -> retrieval (Qdrant Edge) ->
  documents.indexed.v1, documents/s and chunks/s from the first send to the last
  confirmation, as a ratio to the engine; the last tenth of the documents (by confirmation
  time) against the first tenth, which shows whether ingestion slows as the index grows;
- re-ingest: the unchanged manual again (version + 1), documents/s and how many texts
  reached the engine (Triton's own inference_count);
- search: Search p50/p95 over the indexed manual, against a gRPC health check.
Dead-lettered pages are counted with the reason from their dead-letter topic.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from aiokafka import AIOKafkaConsumer, TopicPartition
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import ValidationError
from tritonclient.grpc import InferenceServerClient

from contracts import DocumentIndexed, DocumentSubmitted, topics
from contracts.passages import passage_text
from contracts.rpc import assistant_pb2, assistant_pb2_grpc, common_pb2
from ingestion_service.adapters import ModelTokenizer, packaged_tokenizer_path, sentence_spans
from ingestion_service.core import Chunker, ChunkingPolicy, NoContent, to_chunked_event
from platform_stack import Stack, StackConfig
from platform_stack.documents import push_raw
from platform_triton import TritonEmbeddingClient

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord

ROOT = Path(__file__).resolve().parents[1]
MANUAL = Path("/usr/share/doc/python3.11/html")
PACKAGE = "python3.11-doc"
SOURCE_BASE = "https://docs.python.org/3.11/"
MODEL = "text_embedding"
#: Folders that hold no pages: assets, reST sources, images, and `includes/` (a fragment
#: that other pages include).
SKIPPED_DIRS = frozenset({"_static", "_sources", "_images", "_downloads", "includes"})
#: Top-level pages that are navigation, not text: the indexes, search, the table of
#: contents, the landing page and the download links.
SKIPPED_PAGES = re.compile(r"^(genindex(-.+)?|search|py-modindex|contents|index|download)\.html$")
_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)
_TITLE_SUFFIX = re.compile(r"\s+[—-]\s+Python 3\.\d+(\.\d+)? documentation$")
DEAD_LETTER_TOPICS = (
    topics.DOCUMENTS_BACKFILL_DEAD_LETTER,
    topics.DOCUMENTS_SUBMITTED_DEAD_LETTER,
    topics.DOCUMENTS_CHUNKED_DEAD_LETTER,
    topics.DOCUMENTS_EMBEDDED_DEAD_LETTER,
)
#: Questions a reader of the manual asks, each with the page that answers it.
QUESTIONS = ROOT / "loadtests" / "manual_questions.json"


@dataclass
class Outcome:
    """Every sent document's fate: confirmed, dead-lettered, or neither in time."""

    started: float  # wall clock (time.time()) of the first send
    confirmed: dict[str, DocumentIndexed] = field(default_factory=dict)
    dead: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # topic, type, reason
    settled_at: dict[str, float] = field(default_factory=dict)  # wall clock
    pending: set[str] = field(default_factory=set)

    @property
    def seconds(self) -> float:
        """First send to the last confirmation or dead letter."""
        return max(self.settled_at.values(), default=self.started) - self.started

    @property
    def chunks(self) -> int:
        """Chunks the confirmations say are searchable."""
        return sum(e.chunk_count for e in self.confirmed.values())


def main() -> None:
    """Install the manual if needed, run every measurement on one fresh stack, print a report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--searches", type=int, default=50, help="Search calls (max 50 distinct)")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    parser.add_argument("--logs", type=Path, help="copy the stack's logs here at the end")
    parser.add_argument("--idle-timeout", type=float, default=300.0, help="s without progress")
    args = parser.parse_args()
    _ensure_manual()
    pages, skipped = _pages()
    print(f"{len(pages)} pages kept, {len(skipped)} skipped", file=sys.stderr)
    with tempfile.TemporaryDirectory() as state:
        config = StackConfig.from_env().with_free_ports(
            Path(state), redis_url="redis://127.0.0.1:6379/14"
        )
        with Stack(config) as stack:
            report = _run(stack, pages, args)
            report.skipped = skipped
            report.stages = {
                version: _stages(config.logs_dir, outcome.started, version=version)
                for version, outcome in ((1, report.first), (2, report.again))
            }
            if args.logs:
                shutil.copytree(config.logs_dir, args.logs, dirs_exist_ok=True)
    text = _markdown(report, args)
    print(text)
    if args.output:
        args.output.write_text(text)


# ----------------------------------------------------------------------------- corpus


def _ensure_manual() -> None:
    """Install python3.11-doc through apt when the manual is not there (set-up, needs root)."""
    if MANUAL.is_dir():
        return
    print(f"{MANUAL} missing: installing {PACKAGE}", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", PACKAGE], check=True, env=env)
    if not MANUAL.is_dir():
        raise SystemExit(f"{PACKAGE} installed but {MANUAL} is still missing")


def _pages() -> tuple[list[dict], list[str]]:
    """Every content page as a document (without tenant and version), and the skipped paths."""
    pages, skipped = [], []
    for path in sorted(MANUAL.rglob("*.html")):
        rel = path.relative_to(MANUAL).as_posix()
        if SKIPPED_DIRS & set(path.relative_to(MANUAL).parts[:-1]) or SKIPPED_PAGES.match(rel):
            skipped.append(rel)
            continue
        # Debian's build is UTF-8; a stray byte must not stop the benchmark.
        body = path.read_text(encoding="utf-8", errors="replace")
        match = _TITLE.search(body)
        title = html.unescape(match.group(1)).strip() if match else rel
        title = _TITLE_SUFFIX.sub("", " ".join(title.split()))[:1000]
        pages.append(
            {
                "id": rel,
                "title": title,
                "source": SOURCE_BASE + rel,
                "media_type": "text/html",
                "text": body,
                "access_groups": [],
            }
        )
    # A fixed shuffle: the first and the last tenth are then the same mix of page sizes
    # (sorted paths would put the C API first and What's New last).
    random.Random(0).shuffle(pages)
    return pages, skipped


def _chunk_texts(docs: list[dict]) -> tuple[list[str], dict[str, int], dict[str, str], float]:
    """Ingestion's own parser and chunker, here: the passage texts, chunks per page, the
    pages it refuses (id -> why) and the seconds it took."""
    chunker = Chunker(ChunkingPolicy(), ModelTokenizer(packaged_tokenizer_path()), sentence_spans)
    texts: list[str] = []
    per_page: dict[str, int] = {}
    refused: dict[str, str] = {}
    started = time.perf_counter()
    for doc in docs:
        try:
            event = to_chunked_event(DocumentSubmitted.model_validate(doc), chunker)
        except (ValidationError, NoContent) as exc:
            refused[doc["id"]] = f"{type(exc).__name__}: {str(exc)[:200]}"
            continue
        per_page[doc["id"]] = len(event.chunks)
        texts.extend(passage_text(event.title, chunk) for chunk in event.chunks)
    return texts, per_page, refused, time.perf_counter() - started


# ----------------------------------------------------------------------------- run


@dataclass
class Report:
    """What one run measured."""

    pages: int
    chunk_texts: int
    per_page: dict[str, int]
    refused: dict[str, str]
    chunk_s: float
    engine_s: float
    engine_texts: int
    topic: str
    first: Outcome
    first_engine_texts: int
    again: Outcome
    again_engine_texts: int
    searches: dict[str, list[float]]
    hits: int
    questions: int
    skipped: list[str] = field(default_factory=list)
    #: 1-minute load average (other work on the machine) when each phase started.
    load: dict[str, float] = field(default_factory=dict)
    stages: dict[int, list[tuple[str, int, float, float]]] = field(default_factory=dict)


def _run(stack: Stack, pages: list[dict], args: argparse.Namespace) -> Report:
    load = {"stack up, before chunking": os.getloadavg()[0]}
    tenant = f"manual{int(time.time())}"
    docs = [{**page, "tenant": tenant, "version": 1} for page in pages]
    texts, per_page, refused, chunk_s = _chunk_texts(docs)
    print(f"chunked locally: {len(texts)} chunks in {chunk_s:.1f} s", file=sys.stderr)

    # Baseline on the idle stack: the very same passage texts straight to Triton.
    triton = stack.config.address("triton")
    load["engine baseline"] = os.getloadavg()[0]
    engine_s = asyncio.run(_embed_all(triton, texts))
    print(f"engine alone: {len(texts) / engine_s:.1f} chunks/s", file=sys.stderr)

    topic = _ingest_topic()
    before = _inference_count(triton)
    load["pipeline"] = os.getloadavg()[0]
    first = asyncio.run(_ingest(stack.config.kafka_bootstrap, docs, topic, args.idle_timeout))
    first_engine = _inference_count(triton) - before
    print(f"pipeline: {first.chunks / first.seconds:.1f} chunks/s", file=sys.stderr)

    # The unchanged manual again, one version up: nothing should reach the engine.
    again_docs = [{**doc, "version": 2} for doc in docs]
    before = _inference_count(triton)
    load["re-ingest"] = os.getloadavg()[0]
    again = asyncio.run(_ingest(stack.config.kafka_bootstrap, again_docs, topic, args.idle_timeout))
    again_engine = _inference_count(triton) - before
    print(f"re-ingest: {len(again_docs) / again.seconds:.1f} docs/s", file=sys.stderr)

    known = [(q["question"], q["page"]) for q in json.loads(QUESTIONS.read_text())]
    questions = [known[i % len(known)] for i in range(args.searches)]
    load["search"] = os.getloadavg()[0]
    searches, hits = _searches(stack, tenant, questions)
    load["end"] = os.getloadavg()[0]
    return Report(
        pages=len(docs),
        chunk_texts=len(texts),
        per_page=per_page,
        refused=refused,
        chunk_s=chunk_s,
        engine_s=engine_s,
        engine_texts=len(texts),
        topic=topic,
        first=first,
        first_engine_texts=first_engine,
        again=again,
        again_engine_texts=again_engine,
        searches=searches,
        hits=hits,
        questions=len(questions),
        load=load,
    )


def _ingest_topic() -> str:
    """The backfill topic, unless this checkout's ingestion does not consume it yet."""
    handlers = ROOT / "services/ingestion/src/ingestion_service/handlers.py"
    return (
        topics.DOCUMENTS_BACKFILL
        if "DOCUMENTS_BACKFILL" in handlers.read_text()
        else topics.DOCUMENTS_SUBMITTED
    )


async def _embed_all(triton: str, texts: list[str]) -> float:
    """Seconds the engine takes for `texts`: batches of 64 sent concurrently, after a warm-up."""
    client = TritonEmbeddingClient(url=triton, timeout_s=1800)
    try:
        await client.embed(texts[:64])  # first calls load and size the engine's sessions
        started = time.perf_counter()
        await client.embed(texts)
        return time.perf_counter() - started
    finally:
        await client.close()


def _inference_count(triton: str) -> int:
    """Texts the embedding model has embedded since Triton started (its own statistics)."""
    client = InferenceServerClient(url=triton)
    try:
        stats = client.get_inference_statistics(model_name=MODEL, as_json=True)
    finally:
        client.close()
    return sum(int(s.get("inference_count", 0)) for s in stats.get("model_stats", []))


async def _ingest(bootstrap: str, docs: list[dict], topic: str, idle_timeout_s: float) -> Outcome:
    """Send `docs` to `topic` and read until each is confirmed or dead-lettered."""
    consumer = await _consumer_at_end(bootstrap)
    wanted = {(d["tenant"], d["id"], d["version"]): d["id"] for d in docs}
    outcome = Outcome(started=time.time(), pending=set(wanted.values()))
    try:
        reader = asyncio.create_task(_settle(consumer, wanted, outcome, idle_timeout_s))
        await push_raw(
            bootstrap,
            ((d["id"].encode(), json.dumps(d).encode()) for d in docs),
            topic=topic,
        )
        await reader
    finally:
        await consumer.stop()
    return outcome


async def _consumer_at_end(bootstrap: str) -> AIOKafkaConsumer:
    """A consumer of documents.indexed.v1 and the dead-letter topics, from their ends now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    present = await consumer.topics()
    wanted = [t for t in (topics.DOCUMENTS_INDEXED, *DEAD_LETTER_TOPICS) if t in present]
    if topics.DOCUMENTS_INDEXED not in wanted:
        await consumer.stop()
        raise SystemExit(f"no topic {topics.DOCUMENTS_INDEXED} on {bootstrap}")
    partitions = [
        TopicPartition(t, p) for t in wanted for p in sorted(consumer.partitions_for_topic(t))
    ]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)  # resolve the end now, before anything is sent
    return consumer


async def _settle(
    consumer: AIOKafkaConsumer,
    wanted: dict[tuple[str, str, int], str],
    outcome: Outcome,
    idle_timeout_s: float,
) -> None:
    """Read until nothing is pending, or nothing settled for `idle_timeout_s`."""
    by_id = {doc_id: key for key, doc_id in wanted.items()}
    last = time.monotonic()
    while outcome.pending and time.monotonic() - last < idle_timeout_s:
        batch = await consumer.getmany(timeout_ms=1000)
        for record in (r for records in batch.values() for r in records):
            settled = _settled_by(record, wanted, by_id, outcome)
            if settled and settled in outcome.pending:
                outcome.pending.discard(settled)
                last = time.monotonic()


def _settled_by(
    record: ConsumerRecord,
    wanted: dict[tuple[str, str, int], str],
    by_id: dict[str, tuple[str, str, int]],
    outcome: Outcome,
) -> str | None:
    """The document id a record settles, recorded in `outcome`, if it is one of ours."""
    if record.topic == topics.DOCUMENTS_INDEXED:
        event = DocumentIndexed.model_validate_json(record.value)
        doc_id = wanted.get((event.tenant, event.document_id, event.version))
        if doc_id is not None:
            outcome.confirmed[doc_id] = event
            outcome.settled_at[doc_id] = event.indexed_at.timestamp()
        return doc_id
    doc_id = _dead_letter_id(record, wanted, by_id)
    if doc_id is not None:
        headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
        outcome.dead[doc_id] = (
            record.topic,
            headers.get("x-error-type", "unknown"),
            headers.get("x-error-reason", "(no x-error-reason header)"),
        )
        outcome.settled_at[doc_id] = record.timestamp / 1000
    return doc_id


def _dead_letter_id(
    record: ConsumerRecord,
    wanted: dict[tuple[str, str, int], str],
    by_id: dict[str, tuple[str, str, int]],
) -> str | None:
    """Our document id of a dead letter: from its payload when it parses (submitted and
    chunked carry tenant, id and version), else from its key (`id` or `tenant/id`)."""
    try:
        payload = json.loads(record.value or b"")
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        key = (
            payload.get("tenant"),
            payload.get("id", payload.get("document_id")),
            payload.get("version", 0),
        )
        if key in wanted:
            return wanted[key]
    text = (record.key or b"").decode("utf-8", "replace")
    for candidate in (text, text.partition("/")[2]):
        if candidate in by_id:
            return candidate
    return None


# ----------------------------------------------------------------------------- search


def _searches(
    stack: Stack, tenant: str, questions: list[tuple[str, str]]
) -> tuple[dict[str, list[float]], int]:
    """Search latency against a health check, and how often the expected page is in the top 10."""
    principal = common_pb2.Principal(tenant=tenant, user_id="bench")
    answers: list[tuple[tuple[str, str], assistant_pb2.SearchResponse]] = []
    with grpc.insecure_channel(stack.config.address("generation")) as channel:
        assistant = assistant_pb2_grpc.AssistantStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        rows = {
            "gRPC health check (baseline)": _timed(
                lambda _: health.Check(health_pb2.HealthCheckRequest(), timeout=10), questions
            ),
            "Search (top 10)": _timed(
                lambda q: answers.append(
                    (
                        q,
                        assistant.Search(
                            assistant_pb2.SearchRequest(principal=principal, query=q[0], top_k=10),
                            timeout=30,
                        ),
                    )
                ),
                questions,
            ),
        }
    # The first answer is _timed's warm-up call.
    hits = sum(any(p.document_id == q[1] for p in r.passages) for q, r in answers[1:])
    return rows, hits


def _timed(call, items: list) -> list[float]:
    call(items[0])  # warm the path once
    samples = []
    for item in items:
        started = time.perf_counter()
        call(item)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]


# ----------------------------------------------------------------------------- logs


def _stages(logs: Path, started: float, *, version: int) -> list[tuple[str, int, float, float]]:
    """Per stage of the ingest of `version`: events, seconds from the first send to the
    first and to the last of them (the services' own JSON logs)."""
    rows = []
    for service, event in (
        ("ingestion", "document_chunked"),
        ("embedding", "document_embedded"),
        ("retrieval", "document_indexed"),
    ):
        times = []
        path = logs / f"{service}.log"
        for line in path.read_text(errors="replace").splitlines() if path.exists() else ():
            if f'"{event}"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == event and record.get("version") == version:
                times.append(datetime.fromisoformat(record["timestamp"]).timestamp())
        if times:
            rows.append((event, len(times), min(times) - started, max(times) - started))
    return rows


# ----------------------------------------------------------------------------- report


def _tenths(outcome: Outcome) -> tuple[float, float, float, float]:
    """Documents/s and chunks/s over the first and the last tenth of the confirmations,
    each between its own first and last confirmation (the pipeline's fill time excluded)."""
    order = sorted(outcome.confirmed, key=lambda d: outcome.settled_at[d])
    k = max(2, len(order) // 10)

    def rates(ids: list[str]) -> tuple[float, float]:
        span = outcome.settled_at[ids[-1]] - outcome.settled_at[ids[0]]
        # The first document's chunks were done when the span starts.
        chunks = sum(outcome.confirmed[d].chunk_count for d in ids[1:])
        return (len(ids) - 1) / span, chunks / span

    first_docs, first_chunks = rates(order[:k])
    last_docs, last_chunks = rates(order[-k:])
    return first_docs, last_docs, first_chunks, last_chunks


def _markdown(report: Report, args: argparse.Namespace) -> str:
    first, again = report.first, report.again
    engine_rate = report.engine_texts / report.engine_s
    docs_rate, chunk_rate = len(first.settled_at) / first.seconds, first.chunks / first.seconds
    first_docs, last_docs, first_chunks, last_chunks = _tenths(first)
    per_page = sorted(report.per_page.values())
    command = "`.venv/bin/python loadtests/manual_bench.py"
    command += f" --searches {args.searches}"
    command += f" --output {args.output}`" if args.output else "`"
    load = ", ".join(f"{name} {value:.2f}" for name, value in report.load.items())
    lines = [
        "# Manual benchmark (one run): Debian's python3.11-doc through the embedded stack\n",
        f"Reproduce: {command} (from the repository root, after `make models`; installs "
        f"`{PACKAGE}` with apt-get when {MANUAL} is missing). Machine: {os.cpu_count()} "
        f"CPUs, no GPU; 1-minute load average (others' work included) at each phase's start: "
        f"{load}. Documents sent to `{report.topic}`.",
        f"\nCorpus: {report.pages} pages kept of {report.pages + len(report.skipped)} HTML files "
        f"({len(report.skipped)} skipped: {_skipped_summary(report.skipped)}); "
        f"{report.chunk_texts} chunks, {statistics.mean(per_page):.1f} per page "
        f"(median {statistics.median(per_page):.0f}, max {per_page[-1]}). Ingestion's parser and "
        f"chunker alone, in this process: {report.chunk_s:.1f} s "
        f"({len(report.per_page) / report.chunk_s:.1f} pages/s).",
        f"\n### Ingest: {report.pages} pages, {first.chunks} chunks confirmed\n",
        "| path | seconds | documents/s | chunks/s | ratio to the engine alone |",
        "|---|---:|---:|---:|---:|",
        f"| the same {report.engine_texts} passage texts straight to Triton — baseline | "
        f"{report.engine_s:.1f} | | {engine_rate:.1f} | 1.00 |",
        f"| Kafka → ingestion → embedding → retrieval → `documents.indexed.v1` | "
        f"{first.seconds:.1f} | {docs_rate:.2f} | {chunk_rate:.1f} | "
        f"{chunk_rate / engine_rate:.2f} |",
        "",
        f"Texts the engine embedded during the ingest (Triton's inference_count): "
        f"{report.first_engine_texts}.",
        "",
        "| tenth of the documents, by confirmation time | documents/s | chunks/s |",
        "|---|---:|---:|",
        f"| first tenth | {first_docs:.2f} | {first_chunks:.1f} |",
        f"| last tenth | {last_docs:.2f} | {last_chunks:.1f} |",
        f"| **ratio last / first** | **{last_docs / first_docs:.2f}** | "
        f"{last_chunks / first_chunks:.2f} |",
        "",
        _outcome_line(first, report),
        f"\n### Re-ingest of the unchanged manual (version + 1): {len(again.confirmed)} "
        "confirmed\n",
        "| path | seconds | documents/s | texts that reached the engine | chunks reused |",
        "|---|---:|---:|---:|---:|",
        f"| re-ingest, unchanged text | {again.seconds:.1f} | "
        f"{len(again.settled_at) / again.seconds:.2f} | {report.again_engine_texts} | "
        f"{sum(e.reused_chunks for e in again.confirmed.values())} of {again.chunks} |",
        f"| first ingest (above) | {first.seconds:.1f} | {docs_rate:.2f} | "
        f"{report.first_engine_texts} | "
        f"{sum(e.reused_chunks for e in first.confirmed.values())} of {first.chunks} |",
        "",
        _outcome_line(again, report),
        f"\n### Search over the indexed manual: {report.questions} sequential calls\n",
        "| call | p50 ms | p95 ms | p50 ratio to baseline |",
        "|---|---:|---:|---:|",
    ]
    base = statistics.median(report.searches["gRPC health check (baseline)"])
    for name, samples in report.searches.items():
        p50 = statistics.median(samples)
        lines.append(f"| {name} | {p50:.1f} | {_p95(samples):.1f} | {p50 / base:.1f} |")
    lines.append(
        f"\nThe page that answers the question is among the top 10 passages' documents for "
        f"{report.hits} of {report.questions} questions."
    )
    for version, stages in report.stages.items():
        lines += [
            f"\n### Stages of the {'first ingest' if version == 1 else 're-ingest'} "
            "(the services' logs)\n",
            "| event | documents | first at s | last at s | documents/s over its span |",
            "|---|---:|---:|---:|---:|",
        ]
        for event, count, start, end in stages:
            rate = (count - 1) / (end - start) if end > start else float("nan")
            lines.append(f"| `{event}` | {count} | {start:.1f} | {end:.1f} | {rate:.2f} |")
    return "\n".join(lines) + "\n"


def _outcome_line(outcome: Outcome, report: Report) -> str:
    parts = [f"Confirmed {len(outcome.confirmed)}, dead-lettered {len(outcome.dead)}"]
    parts.append(f"never settled {len(outcome.pending)}")
    text = ", ".join(parts) + "."
    for doc_id, (topic, error_type, reason) in sorted(outcome.dead.items())[:20]:
        text += f"\n- `{doc_id}` on `{topic}`: {error_type}: {reason[:200]}"
    if outcome.pending:
        text += "\n- never settled: " + ", ".join(f"`{d}`" for d in sorted(outcome.pending)[:20])
    if report.refused:
        text += f"\n\nRefused by the local parse/chunk: {len(report.refused)}: " + "; ".join(
            f"`{d}` ({why})" for d, why in sorted(report.refused.items())[:10]
        )
    return text


def _skipped_summary(skipped: list[str]) -> str:
    groups: dict[str, int] = {}
    for rel in skipped:
        name = rel.split("/")[0] + "/" if "/" in rel else re.sub(r"^genindex.*", "genindex*", rel)
        groups[name] = groups.get(name, 0) + 1
    return ", ".join(f"{name} ({n})" if n > 1 else name for name, n in sorted(groups.items()))


if __name__ == "__main__":
    main()
