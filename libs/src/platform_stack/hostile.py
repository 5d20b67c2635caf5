"""Hostile input mixed with good input, against a running stack, and the invariants checked.

The suite in `make test` and the larger run in `loadtests/hostile_run.py` share this:
seeded generators of hostile Kafka messages (every kind a producer can get wrong) and
hostile gRPC requests, interleaved with good documents of two tenants, one of them in
an access group. `run_mix` pushes and calls everything, then reports what the
invariants need: which good documents were indexed and how often, which hostile
messages reached a dead-letter topic with a reason, statuses by code, the slowest call
against its deadline, and what each tenant could see.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import time
import uuid
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from aiokafka import AIOKafkaProducer

from contracts import DocumentIndexed, topics
from contracts.rpc import (
    assistant_pb2,
    assistant_pb2_grpc,
    common_pb2,
    ingestion_pb2,
    ingestion_pb2_grpc,
)
from platform_stack.documents import read_topic

if TYPE_CHECKING:
    from collections.abc import Callable

    from platform_stack.stack import Stack

#: Codes a hostile request may get: the caller's mistake, said as such.
ACCEPTABLE_CODES = frozenset(
    {
        grpc.StatusCode.OK,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.PERMISSION_DENIED,
    }
)
_DEADLINE_S = 10.0
_WORDS = (
    "badge laptop invoice travel hotel meal parental leave audit firewall vendor "
    "warranty robot arm sensor calibration payroll benefits onboarding escalation"
).split()


@dataclass(frozen=True)
class HostileMessage:
    """A message for documents.submitted.v1 that must be dead-lettered."""

    kind: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class GoodDocument:
    """A document that must be indexed once, visible only to its tenant (and group)."""

    tenant: str
    doc_id: str
    token: str
    groups: tuple[str, ...]

    def payload(self) -> dict[str, Any]:
        text = f"The {self.token} procedure covers {' and '.join(_WORDS[:3])} for staff."
        return {
            "tenant": self.tenant,
            "id": self.doc_id,
            "title": f"Procedure {self.token}",
            "text": text,
            "access_groups": list(self.groups),
            "metadata": {"kind": "good"},
        }


@dataclass
class MixReport:
    """What the run observed; the suite asserts on it, the load run prints it."""

    kafka_sent: int = 0
    requests_sent: int = 0
    good_sent: int = 0
    good_indexed: int = 0
    confirmations: Counter[tuple[str, str]] = field(default_factory=Counter)
    hostile_sent: int = 0
    dead_lettered_with_reason: int = 0
    missing_dead_letters: list[str] = field(default_factory=list)
    dead_letter_types: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    bad_statuses: list[str] = field(default_factory=list)
    slowest_call_s: float = 0.0
    leaks: list[str] = field(default_factory=list)
    #: Good documents whose owner found them other than exactly once.
    not_found_once: list[str] = field(default_factory=list)
    passages_checked: int = 0
    seconds: float = 0.0


# -- generators ------------------------------------------------------------------------


def hostile_messages(rng: random.Random, tenant: str, count: int) -> list[HostileMessage]:
    """`count` hostile messages, cycling through every kind in a shuffled order."""
    kinds = list(_HOSTILE_KINDS)
    messages = []
    for number in range(count):
        if number % len(kinds) == 0:
            rng.shuffle(kinds)
        kind = kinds[number % len(kinds)]
        value, headers = _HOSTILE_KINDS[kind](rng, tenant, f"h{number}")
        key = f"hostile-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}".encode()
        messages.append(HostileMessage(kind, key, value, headers))
    return messages


def good_documents(rng: random.Random, tenants: tuple[str, str], count: int) -> list[GoodDocument]:
    """`count` good documents over two tenants; every third one in group `hr`."""
    documents = []
    for number in range(count):
        token = f"zq{uuid.UUID(int=rng.getrandbits(128)).hex[:10]}"
        documents.append(
            GoodDocument(
                tenant=tenants[number % 2],
                doc_id=f"good-{number}",
                token=token,
                groups=("hr",) if number % 3 == 0 else (),
            )
        )
    return documents


def _doc(tenant: str, doc_id: str, **fields: Any) -> dict[str, Any]:
    return {"tenant": tenant, "id": doc_id, "text": "A valid body.", **fields}


def _json(data: Any) -> tuple[bytes, tuple[tuple[str, bytes], ...]]:
    return json.dumps(data).encode(), ()


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


#: Every kind of message a producer can get wrong: kind -> (rng, tenant, id) -> (value, headers).
_HOSTILE_KINDS: dict[str, Callable[[random.Random, str, str], tuple[bytes, tuple]]] = {
    "truncated_json": lambda r, t, i: (json.dumps(_doc(t, i)).encode()[: r.randint(1, 20)], ()),
    "empty_tombstone": lambda r, t, i: (b"", ()),
    "json_array": lambda r, t, i: _json([_doc(t, i)]),
    "json_string": lambda r, t, i: _json("hello"),
    "json_number": lambda r, t, i: (b"1e999999", ()),
    "deep_message": lambda r, t, i: (_deep(r.choice([1_000, 10_000])), ()),
    "deep_metadata": lambda r, t, i: (
        json.dumps(_doc(t, i))[:-1].encode()
        + b', "metadata": '
        + b'{"a": ' * 5_000
        + b'"v"'
        + b"}" * 5_001,
        (),
    ),
    "huge_version": lambda r, t, i: (
        json.dumps(_doc(t, i))[:-1].encode() + b', "version": ' + b"9" * 5_000 + b"}",
        (),
    ),
    "string_version": lambda r, t, i: _json(_doc(t, i, version="3")),
    "bool_version": lambda r, t, i: _json(_doc(t, i, version=True)),
    "float_version": lambda r, t, i: _json(_doc(t, i, version=2.5)),
    "u64_version": lambda r, t, i: _json(_doc(t, i, version=2**64)),
    "negative_version": lambda r, t, i: _json(_doc(t, i, version=-1)),
    "bad_tenant": lambda r, t, i: _json(_doc(r.choice(["", "UPPER", "a b", "x" * 70]), i)),
    "bad_id": lambda r, t, i: _json(_doc(t, r.choice(["", "has space", "x" * 300, "é"]))),
    "unknown_field": lambda r, t, i: _json(_doc(t, i, acces_groups=["hr"])),
    "missing_text": lambda r, t, i: _json({"tenant": t, "id": i}),
    "blank_text": lambda r, t, i: _json(_doc(t, i, text=" \n\t ")),
    "nul_text": lambda r, t, i: _json(_doc(t, i, text="\u0000" * r.randint(1, 5))),
    "control_text": lambda r, t, i: _json(_doc(t, i, text="\u0001\u0002\u007f")),
    "markup_only_html": lambda r, t, i: _json(
        _doc(t, i, media_type="text/html", text="<script>alert(1)</script><style>p{}</style>")
    ),
    "unknown_media_type": lambda r, t, i: _json(_doc(t, i, media_type="application/x-evil")),
    "unknown_operation": lambda r, t, i: _json(_doc(t, i, operation="purge")),
    "metadata_nested": lambda r, t, i: _json(_doc(t, i, metadata={"a": {"b": "c"}})),
    "metadata_number": lambda r, t, i: _json(_doc(t, i, metadata={"a": 1})),
    "metadata_bad_key": lambda r, t, i: _json(_doc(t, i, metadata={"a.b": "c"})),
    "metadata_too_many": lambda r, t, i: _json(
        _doc(t, i, metadata={f"k{n}": "v" for n in range(65)})
    ),
    "groups_not_list": lambda r, t, i: _json(_doc(t, i, access_groups="hr")),
    "groups_too_many": lambda r, t, i: _json(_doc(t, i, access_groups=["g"] * 65)),
    "title_too_long": lambda r, t, i: _json(_doc(t, i, title="t" * 1_001)),
    "invalid_utf8": lambda r, t, i: (b'{"tenant": "' + t.encode() + b'", "id": "\xff\xfe"}', ()),
    "lone_surrogate": lambda r, t, i: (
        b'{"tenant": "' + t.encode() + b'", "id": "x", "text": "\\ud800"}',
        (),
    ),
    "labelled_broken_json": lambda r, t, i: (
        b'{"tenant": ',
        (("content-type", b"application/json"),),
    ),
    "null_body_fields": lambda r, t, i: _json(_doc(t, i, text=None)),
    # Binary bodies (base64 `content`): off-contract ones, and files no parser can read.
    "content_not_base64": lambda r, t, i: _json(_content(t, i, "not base64!")),
    "content_line_broken": lambda r, t, i: _json(_content(t, i, "JVBE\nRi0x")),
    "text_and_content": lambda r, t, i: _json(_doc(t, i, content=_b64(b"%PDF-1.4"))),
    "pdf_as_text": lambda r, t, i: _json(_doc(t, i, media_type="application/pdf", text="%PDF")),
    "truncated_pdf": lambda r, t, i: _json(
        _content(t, i, _b64(b"%PDF-1.7\n1 0 obj <<" + r.randbytes(r.randint(0, 300))))
    ),
    "random_bytes_pdf": lambda r, t, i: _json(_content(t, i, _b64(r.randbytes(2_000)))),
    "random_bytes_docx": lambda r, t, i: _json(
        _content(
            t,
            i,
            _b64(r.randbytes(2_000)),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
    ),
    "zip_not_docx": lambda r, t, i: _json(
        _content(
            t,
            i,
            _b64(_zip_of(r)),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
    ),
    "json_records_broken": lambda r, t, i: _json(
        _doc(t, i, media_type="application/json", text='[{"name": "x",')
    ),
    "json_records_scalar": lambda r, t, i: _json(
        _doc(t, i, media_type="application/json", text="42")
    ),
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _content(tenant: str, doc_id: str, content: str, media_type: str = "application/pdf") -> dict:
    document = _doc(tenant, doc_id, media_type=media_type, content=content)
    document.pop("text")
    return document


def _zip_of(rng: random.Random) -> bytes:
    """A valid zip archive holding no Word document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", rng.randbytes(64).hex())
    return buffer.getvalue()


# -- the run ---------------------------------------------------------------------------


def run_mix(
    stack: Stack,
    *,
    seed: int,
    hostile_count: int,
    good_count: int,
    request_count: int,
    timeout_s: float = 180.0,
) -> MixReport:
    """Push and call everything, interleaved, then collect what the invariants need."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test input, not secrets
    run_id = f"{seed:x}{uuid.uuid4().hex[:6]}"
    tenants = (f"hostile-a-{run_id}", f"hostile-b-{run_id}")
    report = MixReport()
    hostile = hostile_messages(rng, tenants[0], hostile_count)
    good = good_documents(rng, tenants, good_count)
    started = time.monotonic()
    # Requests run in a thread while the messages are produced, so both reach the
    # services at the same time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        calls = pool.submit(_call_everything, stack, rng, tenants, request_count, report)
        asyncio.run(_produce_interleaved(stack.config.kafka_bootstrap, rng, hostile, good))
        calls.result()
    report.kafka_sent = len(hostile) + len(good)
    report.hostile_sent = len(hostile)
    report.good_sent = len(good)
    asyncio.run(
        _collect_kafka_outcomes(stack.config.kafka_bootstrap, hostile, good, report, timeout_s)
    )
    _check_isolation(stack, good, report)
    report.seconds = time.monotonic() - started
    return report


async def _produce_interleaved(
    bootstrap: str, rng: random.Random, hostile: list[HostileMessage], good: list[GoodDocument]
) -> None:
    items: list[HostileMessage | GoodDocument] = [*hostile, *good]
    rng.shuffle(items)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=8 * 1024 * 1024
    )
    await producer.start()
    try:
        for item in items:
            if isinstance(item, HostileMessage):
                await producer.send_and_wait(
                    topics.DOCUMENTS_SUBMITTED,
                    item.value,
                    key=item.key,
                    headers=list(item.headers) or None,
                )
            else:
                await producer.send_and_wait(
                    topics.DOCUMENTS_SUBMITTED,
                    json.dumps(item.payload()).encode(),
                    key=item.doc_id.encode(),
                )
    finally:
        await producer.stop()


async def _collect_kafka_outcomes(
    bootstrap: str,
    hostile: list[HostileMessage],
    good: list[GoodDocument],
    report: MixReport,
    timeout_s: float,
) -> None:
    expected_good = {(d.tenant, d.doc_id) for d in good}
    confirmed: Counter[tuple[str, str]] = Counter()
    read = 0

    def all_indexed(records: list[Any]) -> bool:
        nonlocal read
        for record in records[read:]:
            event = DocumentIndexed.model_validate_json(record.value)
            if (event.tenant, event.document_id) in expected_good:
                confirmed[(event.tenant, event.document_id)] += 1
        read = len(records)
        return expected_good <= confirmed.keys()

    try:
        await read_topic(
            bootstrap, topics.DOCUMENTS_INDEXED, until=all_indexed, timeout_s=timeout_s
        )
    except TimeoutError:
        pass  # the report says which are missing
    report.confirmations = confirmed
    report.good_indexed = len(confirmed)

    wanted = {m.key for m in hostile}
    seen: dict[bytes, dict[str, str]] = {}

    def all_dead(records: list[Any]) -> bool:
        for record in records:
            if record.key in wanted:
                seen[record.key] = {k: v.decode("utf-8", "replace") for k, v in record.headers}
        return wanted <= seen.keys()

    try:
        await read_topic(
            bootstrap, topics.DOCUMENTS_SUBMITTED_DEAD_LETTER, until=all_dead, timeout_s=60
        )
    except TimeoutError:
        pass
    for message in hostile:
        headers = seen.get(message.key)
        if headers and headers.get("x-error-type") and headers.get("x-error-reason"):
            report.dead_lettered_with_reason += 1
            report.dead_letter_types[headers["x-error-type"]] += 1
        else:
            report.missing_dead_letters.append(message.kind)


# -- gRPC --------------------------------------------------------------------------------


def _call_everything(
    stack: Stack,
    rng: random.Random,
    tenants: tuple[str, str],
    count: int,
    report: MixReport,
) -> None:
    with (
        grpc.insecure_channel(stack.config.address("generation")) as generation,
        grpc.insecure_channel(stack.config.address("ingestion")) as ingestion,
    ):
        assistant = assistant_pb2_grpc.AssistantStub(generation)
        ingest = ingestion_pb2_grpc.IngestionStub(ingestion)
        raw_ask = generation.unary_unary("/genai.v1.Assistant/Ask")
        requests = _hostile_requests(rng, tenants[0], assistant, ingest, raw_ask)
        for number in range(count):
            name, call = requests[number % len(requests)]
            _timed_call(name, call, report)
    report.requests_sent = count


def _timed_call(name: str, call: Callable[[float], Any], report: MixReport) -> None:
    started = time.monotonic()
    try:
        call(_DEADLINE_S)
        code = grpc.StatusCode.OK
        details = ""
    except grpc.RpcError as error:
        code = error.code()
        details = error.details() or ""
    elapsed = time.monotonic() - started
    report.slowest_call_s = max(report.slowest_call_s, elapsed)
    report.statuses[code.name] += 1
    # "Stream removed" is what a client sees when the real status was lost in transit.
    if code not in ACCEPTABLE_CODES or "Stream removed" in details:
        report.bad_statuses.append(f"{name}: {code.name} {details[:200]}")


def _hostile_requests(
    rng: random.Random,
    tenant: str,
    assistant: assistant_pb2_grpc.AssistantStub,
    ingest: ingestion_pb2_grpc.IngestionStub,
    raw_ask: Any,
) -> list[tuple[str, Callable[[float], Any]]]:
    who = common_pb2.Principal(tenant=tenant, user_id="u1")
    nobody = common_pb2.Principal()
    big = "x" * rng.choice([10_000, 100_000])

    def ask(**fields: Any) -> Callable[[float], Any]:
        return lambda t: assistant.Ask(assistant_pb2.AskRequest(**fields), timeout=t)

    def search(**fields: Any) -> Callable[[float], Any]:
        return lambda t: assistant.Search(assistant_pb2.SearchRequest(**fields), timeout=t)

    def feedback(**fields: Any) -> Callable[[float], Any]:
        return lambda t: assistant.SubmitFeedback(
            assistant_pb2.SubmitFeedbackRequest(**fields), timeout=t
        )

    def submit(**document: Any) -> Callable[[float], Any]:
        return lambda t: ingest.SubmitDocument(
            ingestion_pb2.SubmitDocumentRequest(
                principal=who, document=ingestion_pb2.Document(**document)
            ),
            timeout=t,
        )

    return [
        ("ask-no-tenant", ask(principal=nobody, question="hello")),
        ("ask-empty-question", ask(principal=who, question="")),
        ("ask-huge-question", ask(principal=who, question=big)),
        ("ask-huge-filter-key", ask(principal=who, question="q", filters={big: "v"})),
        ("ask-huge-filter-value", ask(principal=who, question="q", filters={"k": big[:2000]})),
        ("ask-negative-top-k", ask(principal=who, question="q", top_k=-5)),
        ("ask-huge-top-k", ask(principal=who, question="q", top_k=10**9)),
        ("ask-unknown-prompt", ask(principal=who, question="q", prompt_version="nope@9")),
        (
            "ask-bad-group",
            ask(principal=common_pb2.Principal(tenant=tenant, groups=[""]), question="q"),
        ),
        ("ask-nul-question", ask(principal=who, question="\u0000")),
        (
            "ask-undecodable",
            lambda t: raw_ask(bytes.fromhex("0a060a0466757a7a1203eda080"), timeout=t),
        ),
        ("ask-truncated", lambda t: raw_ask(b"\x0a\xff", timeout=t)),
        ("search-no-tenant", search(principal=nobody, query="q")),
        ("search-huge-filter-key", search(principal=who, query="q", filters={big: "v"})),
        ("search-bad-tenant", search(principal=common_pb2.Principal(tenant="UP PER"), query="q")),
        ("search-good", search(principal=who, query="badge laptop", top_k=5)),
        (
            "search-facet-on-tenant",
            search(principal=who, query="q", facet_fields=["tenant", "access_groups"]),
        ),
        (
            "search-huge-facet-limit",
            search(principal=who, query="q", facet_fields=["source"], facet_limit=10**9),
        ),
        ("search-huge-facet-field", search(principal=who, query="q", facet_fields=[big])),
        (
            "search-filter-no-condition",
            search(principal=who, query="q", typed_filters=[common_pb2.MetadataFilter(field="x")]),
        ),
        (
            "search-filter-huge-any-of",
            search(
                principal=who,
                query="q",
                typed_filters=[
                    common_pb2.MetadataFilter(
                        field="metadata.kind",
                        any_of=common_pb2.StringList(values=["v"] * 10_000),
                    )
                ],
            ),
        ),
        (
            "search-filter-bad-date",
            search(
                principal=who,
                query="q",
                typed_filters=[
                    common_pb2.MetadataFilter(
                        field="metadata.year", date_range=common_pb2.DateRange(gte="yesterday")
                    )
                ],
            ),
        ),
        (
            "search-filter-nan-range",
            search(
                principal=who,
                query="q",
                typed_filters=[
                    common_pb2.MetadataFilter(
                        field="metadata.year", range=common_pb2.NumberRange(gte=float("nan"))
                    )
                ],
            ),
        ),
        (
            "search-filter-on-tenant",
            search(
                principal=who,
                query="q",
                typed_filters=[common_pb2.MetadataFilter(field="tenant", equals="other")],
            ),
        ),
        ("search-weight-out-of-range", search(principal=who, query="q", fusion=4, dense_weight=7)),
        ("search-unknown-fusion", search(principal=who, query="q", fusion=99)),
        ("ask-unknown-route", ask(principal=who, question="q", route="oracle")),
        (
            "ask-negative-budget",
            ask(
                principal=who,
                question="why is that?",
                budget=assistant_pb2.AnswerBudget(max_cost_usd=-1, max_latency_ms=-5),
            ),
        ),
        (
            "ask-nan-budget",
            ask(
                principal=who,
                question="why is that?",
                budget=assistant_pb2.AnswerBudget(max_cost_usd=float("nan")),
            ),
        ),
        (
            "ask-zero-budget",
            ask(
                principal=who,
                question="why is that?",
                budget=assistant_pb2.AnswerBudget(max_cost_usd=0, max_latency_ms=1),
            ),
        ),
        ("ask-calculator-no-sum", ask(principal=who, question="hello", route="calculator")),
        ("ask-huge-arithmetic", ask(principal=who, question="9" * 3000 + " ** 99")),
        (
            "ask-huge-user-context",
            ask(
                principal=who,
                question="q",
                user_context=assistant_pb2.UserContext(
                    current_page=big,
                    recent_turns=[assistant_pb2.Turn(role="boss", text=big)] * 50,
                ),
            ),
        ),
        (
            "passage-unknown-chunk",
            lambda t: assistant.GetPassage(
                assistant_pb2.GetPassageRequest(principal=who, chunk_id=str(uuid.uuid4())),
                timeout=t,
            ),
        ),
        (
            "passage-huge-chunk-id",
            lambda t: assistant.GetPassage(
                assistant_pb2.GetPassageRequest(principal=who, chunk_id=big), timeout=t
            ),
        ),
        (
            "prompts-list",
            lambda t: assistant.ListPrompts(assistant_pb2.ListPromptsRequest(), timeout=t),
        ),
        ("feedback-no-tenant", feedback(principal=nobody, answer_id="a", rating=1)),
        ("feedback-huge-answer", feedback(principal=who, answer_id="a" * 20_000, rating=1)),
        ("feedback-unknown-answer", feedback(principal=who, answer_id=str(uuid.uuid4()), rating=1)),
        ("feedback-bad-rating", feedback(principal=who, answer_id="a", rating=99)),
        ("submit-nul-text", submit(id="nul", text="\u0000")),
        (
            "submit-markup-only",
            submit(id="html", text="<script>x</script>", media_type="text/html"),
        ),
        ("submit-no-id", submit(id="", text="Some text.")),
        ("submit-bad-media", submit(id="m", text="Some text.", media_type="application/x-evil")),
        ("submit-bad-metadata", submit(id="m", text="Some text.", metadata={big: "v"})),
        (
            "submit-corrupt-pdf",
            submit(id="p", media_type="application/pdf", content=b"%PDF-1.7 " + big.encode()),
        ),
        ("submit-text-and-content", submit(id="p", text="Some text.", content=b"also bytes")),
        ("submit-pdf-as-text", submit(id="p", media_type="application/pdf", text="%PDF-1.7")),
        ("submit-huge-content", submit(id="p", content=b"x" * 5_000_000)),
        (
            "delete-bad-id",
            lambda t: ingest.DeleteDocument(
                ingestion_pb2.DeleteDocumentRequest(principal=who, document_id="has space"),
                timeout=t,
            ),
        ),
    ]


def _check_isolation(stack: Stack, good: list[GoodDocument], report: MixReport) -> None:
    """Every tenant searches for every good document's token: only its own, within groups."""
    owner = {d.token: d for d in good}
    with grpc.insecure_channel(stack.config.address("generation")) as channel:
        assistant = assistant_pb2_grpc.AssistantStub(channel)
        tenants = sorted({d.tenant for d in good})
        for document in good:
            for tenant in tenants:
                for groups in ((), ("hr",)):
                    own_hits = 0
                    response = assistant.Search(
                        assistant_pb2.SearchRequest(
                            principal=common_pb2.Principal(tenant=tenant, groups=groups),
                            query=f"{document.token} procedure",
                            top_k=10,
                        ),
                        timeout=_DEADLINE_S,
                    )
                    for passage in response.passages:
                        report.passages_checked += 1
                        source = next((d for t, d in owner.items() if t in passage.text), None)
                        if source is None:
                            continue
                        own_hits += source is document
                        if source.tenant != tenant or (
                            source.groups and not set(source.groups) & set(groups)
                        ):
                            report.leaks.append(
                                f"{tenant}{list(groups)} saw {source.tenant}/{source.doc_id}"
                            )
                    entitled = document.tenant == tenant and (
                        not document.groups or set(document.groups) & set(groups)
                    )
                    if entitled and own_hits != 1:
                        report.not_found_once.append(
                            f"{document.doc_id} found {own_hits} times by {tenant}{list(groups)}"
                        )
