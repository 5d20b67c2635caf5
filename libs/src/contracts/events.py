"""Typed payloads of every Kafka topic (JSON on the wire).

`DocumentSubmitted` is the public contract for outside producers; its JSON Schema
is committed in `schemas/` and checked for freshness by the tests. The other events
flow between our own services, keyed by `document_key(tenant, id)` so that every
version of one document stays in order on one partition end to end.
"""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

#: Namespace of deterministic ids; fixed forever, ids are derived from it.
ID_NAMESPACE = uuid.UUID("5f0c2a54-1c55-4c5e-9d0b-6a4f3b0e8e21")

# Sized so that the largest document's embedded event (text plus a 2 KB vector per
# chunk of about 1,000 characters: about 3.5 bytes per character) fits the 8 MiB
# messages our topics are created for.
MAX_DOCUMENT_CHARS = 1_000_000
TENANT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
DOCUMENT_ID_PATTERN = r"^[A-Za-z0-9._:/-]{1,256}$"

Tenant = Annotated[str, StringConstraints(pattern=TENANT_PATTERN)]
DocumentId = Annotated[str, StringConstraints(pattern=DOCUMENT_ID_PATTERN)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=128)]
#: Metadata keys become filter paths in the index, where a dot would mean nesting.
METADATA_KEY_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
MetadataKey = Annotated[str, StringConstraints(pattern=METADATA_KEY_PATTERN)]
MAX_METADATA_ENTRIES = 64
MAX_METADATA_VALUE_CHARS = 1000
#: Versions are signed 64-bit integers on every platform a producer may use (Java's long).
MAX_VERSION = 2**63 - 1
#: Base64 of a binary body (PDF, DOCX): about 4.5 MB of file, so that the message with its
#: other fields fits the 8 MiB topics. Larger files belong in an object store (roadmap).
MAX_CONTENT_B64_CHARS = 6_000_000
#: Standard base64 (RFC 4648, section 4) with its padding and no line breaks.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_NON_BLANK = re.compile(r"\S")


def document_key(tenant: str, document_id: str) -> str:
    """Kafka key of a document's internal events: one partition per document."""
    return f"{tenant}/{document_id}"


def chunk_id(tenant: str, document_id: str, index: int) -> str:
    """Deterministic chunk id, so a redelivered chunk overwrites instead of duplicating."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{tenant}/{document_id}#{index}"))


def utc_now() -> datetime:
    """Timestamps on the wire are timezone-aware UTC."""
    return datetime.now(UTC)


class Operation(StrEnum):
    """What a document message asks for."""

    UPSERT = "upsert"
    DELETE = "delete"


class MediaType(StrEnum):
    """Formats ingestion can parse."""

    PLAIN = "text/plain"
    MARKDOWN = "text/markdown"
    HTML = "text/html"
    #: A JSON object, or an array of objects (records); each record becomes a section.
    JSON = "application/json"
    #: Comma-separated records with a header row; each row becomes a section.
    CSV = "text/csv"
    PDF = "application/pdf"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    @property
    def is_binary(self) -> bool:
        """Whether the body can only arrive as base64 `content`, never as `text`."""
        return self in _BINARY_MEDIA_TYPES


_BINARY_MEDIA_TYPES = frozenset({MediaType.PDF, MediaType.DOCX})


class _Event(BaseModel):
    # Decoded with strict=True from Kafka (platform_kafka.decode_event): no coercion.
    model_config = ConfigDict(frozen=True, extra="forbid")


def _document_schema_extra(schema: dict[str, object]) -> None:
    """What the model's validator enforces beyond the field types, said in the schema too."""
    schema["examples"] = [
        {
            "tenant": "acme",
            "id": "handbook-vacation",
            "operation": "upsert",
            "version": 3,
            "title": "Vacation policy",
            "source": "https://intranet.acme.example/handbook/vacation",
            "media_type": "text/markdown",
            "text": "# Vacation\nEmployees get 25 days of paid vacation a year.",
            "metadata": {"department": "hr"},
            "access_groups": [],
        }
    ]
    has_text = {"required": ["text"], "properties": {"text": {"pattern": _NON_BLANK.pattern}}}
    any_text = {"required": ["text"], "properties": {"text": {"minLength": 1}}}
    has_content = {"required": ["content"], "properties": {"content": {"minLength": 1}}}
    binary = {
        "required": ["media_type"],
        "properties": {"media_type": {"enum": sorted(m.value for m in _BINARY_MEDIA_TYPES)}},
    }
    schema["allOf"] = [
        # An upsert (the default operation) needs a body: a text with something other than
        # whitespace, or base64 content.
        {
            "if": {
                "anyOf": [
                    {"not": {"required": ["operation"]}},
                    {"properties": {"operation": {"const": "upsert"}}},
                ]
            },
            "then": {"anyOf": [has_text, has_content]},
        },
        # One body, never two that could disagree.
        {"not": {"allOf": [any_text, has_content]}},
        # A binary format cannot travel as text.
        {"if": binary, "then": {"not": any_text}},
    ]


def _metadata_schema(schema: dict[str, object]) -> None:
    # pydantic writes key patterns as patternProperties, which lets any other key
    # through; say it as the model enforces it: every key matches.
    schema.pop("patternProperties", None)
    schema["propertyNames"] = {"pattern": METADATA_KEY_PATTERN}
    schema["additionalProperties"] = {"type": "string", "maxLength": MAX_METADATA_VALUE_CHARS}


class DocumentSubmitted(_Event):
    """A document to index, or to delete, from an outside producer."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_document_schema_extra)

    tenant: Tenant = Field(description="Tenant that owns the document.", examples=["acme"])
    id: DocumentId = Field(description="Producer's id, unique within the tenant.")
    operation: Operation = Field(Operation.UPSERT, description="upsert (default) or delete.")
    version: int = Field(
        0,
        ge=0,
        le=MAX_VERSION,
        description="Monotonic version, a signed 64-bit integer; a message older than the "
        "indexed version is ignored.",
    )
    title: str = Field("", max_length=1000, description="Title shown in citations.")
    source: str = Field("", max_length=2000, description="URL or path of the original.")
    media_type: MediaType = Field(
        MediaType.PLAIN, description="Format of the body, in `text` or `content`."
    )
    text: str = Field(
        "",
        max_length=MAX_DOCUMENT_CHARS,
        description="The body as text; an upsert needs `text` or `content`, not both.",
    )
    content: str = Field(
        "",
        max_length=MAX_CONTENT_B64_CHARS,
        pattern=BASE64_PATTERN,
        description="The body as base64 bytes (standard alphabet, padded, no line breaks); "
        "required for binary formats (PDF, DOCX), allowed for any. Its text is bounded "
        "like `text`.",
        json_schema_extra={"contentEncoding": "base64"},
    )
    metadata: dict[
        MetadataKey, Annotated[str, StringConstraints(max_length=MAX_METADATA_VALUE_CHARS)]
    ] = Field(
        default_factory=dict,
        max_length=MAX_METADATA_ENTRIES,
        description="Filterable attributes: one level, string to string, at most 64 keys "
        "[A-Za-z0-9_-] of 1-128 characters and values of at most 1,000. A value that reads "
        "as a decimal number ('2024', '-1.5e3') is also indexed as that number, and one "
        "that reads as an RFC 3339 date ('2024-03-01') or date-time with offset "
        "('2024-03-01T09:00:00Z') as that instant, for range filters; the string is kept.",
        json_schema_extra=_metadata_schema,
    )
    access_groups: list[Label] = Field(
        default_factory=list,
        max_length=64,
        description="Groups allowed to read the document; empty means the whole tenant.",
    )

    @model_validator(mode="after")
    def _one_body(self) -> DocumentSubmitted:
        if self.text and self.content:
            raise ValueError("send the body in `text` or in `content`, not both")
        if self.media_type.is_binary and self.text:
            raise ValueError(f"{self.media_type.value} is binary: send it as base64 `content`")
        if (
            self.operation is Operation.UPSERT
            and not self.content
            and not _NON_BLANK.search(self.text)
        ):
            raise ValueError("an upsert needs a non-empty `text` or `content`")
        return self

    def body(self) -> bytes | str:
        """The body to parse: decoded `content` when sent, else `text`."""
        return base64.b64decode(self.content) if self.content else self.text


class Chunk(BaseModel):
    """One piece of a document, sized for the embedding model's context."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(ge=0, description="Position of the chunk in the document.")
    text: str = Field(description="The chunk's text, as embedded and shown.")
    start: int = Field(
        ge=0,
        description="Offset of the chunk's first character in the document's text: the "
        "submitted text for text formats, the page's extracted text for PDF, the "
        "extracted text for DOCX.",
    )
    end: int = Field(ge=0, description="Offset after the chunk's last character, same text.")
    heading: str = Field("", description="Heading path above the chunk, e.g. 'Policy > Limits'.")
    page: int | None = Field(
        None, ge=1, description="1-based page of a paged format (PDF); null otherwise."
    )


class _DocumentEvent(_Event):
    tenant: Tenant = Field(description="Owning tenant.")
    document_id: DocumentId = Field(description="Producer's document id.")
    operation: Operation = Field(description="upsert or delete.")
    version: int = Field(ge=0, le=MAX_VERSION, description="Version carried from the submission.")
    title: str = Field("", description="Document title.")
    source: str = Field("", description="Document source link.")
    metadata: dict[str, str] = Field(default_factory=dict, description="Filterable attributes.")
    access_groups: list[str] = Field(default_factory=list, description="Readers; empty = tenant.")
    submitted_at: datetime = Field(description="When ingestion accepted the submission.")

    @property
    def key(self) -> str:
        """Kafka key of this event."""
        return document_key(self.tenant, self.document_id)


class DocumentChunked(_DocumentEvent):
    """A document version split into chunks; no chunks for a delete."""

    chunks: list[Chunk] = Field(default_factory=list, description="Chunks in order.")


class EmbeddedChunk(Chunk):
    """A chunk with its dense vector."""

    vector_b64: str = Field(
        description="Little-endian float32 vector, base64: a quarter the size of a JSON list."
    )
    content_hash: str = Field(
        "",
        description="sha256 of the engine and the exact text it embedded: equal hashes have "
        "equal vectors, so an unchanged chunk is never embedded again.",
    )

    @classmethod
    def from_chunk(
        cls, chunk: Chunk, vector: np.ndarray, *, content_hash: str = ""
    ) -> EmbeddedChunk:
        """Attach a vector to a chunk."""
        raw = np.asarray(vector, dtype="<f4").tobytes()
        return cls(
            **chunk.model_dump(),
            vector_b64=base64.b64encode(raw).decode("ascii"),
            content_hash=content_hash,
        )

    def vector(self) -> list[float]:
        """Decode the vector."""
        return np.frombuffer(base64.b64decode(self.vector_b64), dtype="<f4").tolist()


class DocumentEmbedded(_DocumentEvent):
    """A document version with a vector per chunk."""

    model: str = Field("", description="Embedding engine that produced the vectors.")
    chunks: list[EmbeddedChunk] = Field(default_factory=list, description="Chunks in order.")
    reused_chunks: int = Field(
        0, ge=0, description="Chunks whose vector came from the index, not from the engine."
    )


class IndexStatus(StrEnum):
    """Outcome of indexing one document message."""

    INDEXED = "indexed"
    DELETED = "deleted"
    #: An older version than the one already indexed arrived; it was ignored.
    STALE_IGNORED = "stale_ignored"


class DocumentIndexed(_Event):
    """Confirms what the index now holds for a document."""

    tenant: Tenant = Field(description="Owning tenant.")
    document_id: DocumentId = Field(description="Producer's document id.")
    version: int = Field(ge=0, le=MAX_VERSION, description="Version the message carried.")
    status: IndexStatus = Field(description="What happened.")
    chunk_count: int = Field(ge=0, description="Chunks now searchable for this document.")
    reused_chunks: int = Field(
        0,
        ge=0,
        description="Of `chunk_count`, chunks unchanged since an indexed version: their vectors "
        "were reused, not recomputed.",
    )
    indexed_at: datetime = Field(default_factory=utc_now, description="When it happened.")


class FeedbackReceived(_Event):
    """End-user feedback on an answer."""

    feedback_id: str = Field(
        description="uuid5 of (tenant, user, answer): one per user and answer."
    )
    tenant: Tenant = Field(description="Tenant of the user.")
    user_id: str = Field("", description="End user, if known.")
    answer_id: str = Field(description="Answer the feedback is about.")
    rating: Literal["up", "down", "none"] = Field(description="Thumbs up, down, or none.")
    comment: str = Field("", max_length=2000, description="Free text.")
    useful_chunk_ids: list[str] = Field(default_factory=list, description="Clicked citations.")
    received_at: datetime = Field(default_factory=utc_now, description="When it was recorded.")


class Notification(_Event):
    """One fact for push-notification consumers; `notification_id` is stable per fact."""

    notification_id: str = Field(description="Deterministic: consumers dedupe on it.")
    tenant: Tenant = Field(description="Tenant it concerns; consumers filter on it.")
    user_id: str = Field("", description="Recipient, if the fact concerns one user.")
    kind: Literal["feedback.received"] = Field(description="What happened.")
    title: str = Field(description="Short human-readable line.")
    body: str = Field("", description="Longer text.")
    attributes: dict[str, str] = Field(default_factory=dict, description="Kind-specific data.")
    occurred_at: datetime = Field(default_factory=utc_now, description="When it happened.")


# -- Batch jobs (answers.jobs.v1 -> answers.results.v1, answers.completed.v1) -----

#: Job ids name Redis keys and Kafka keys: a short, safe alphabet.
JOB_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
ITEM_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
#: Items per job: a job is expanded into one message per item at once.
MAX_JOB_ITEMS = 10_000
MAX_QUESTION_CHARS = 4000
JobId = Annotated[str, StringConstraints(pattern=JOB_ID_PATTERN)]
ItemId = Annotated[str, StringConstraints(pattern=ITEM_ID_PATTERN)]


def job_item_key(job_id: str, item_id: str) -> str:
    """Kafka key of one item's result: a replayed result carries the same key."""
    return f"{job_id}/{item_id}"


def job_result_id(job_id: str, item_id: str) -> str:
    """Deterministic result id: consumers dedupe a re-produced result on it."""
    return str(uuid.uuid5(ID_NAMESPACE, f"batch/{job_id}/{item_id}"))


class BatchQuestion(BaseModel):
    """One question of a batch job."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: ItemId | None = Field(
        None, description="Caller's id of the item, unique in the job; default: its index."
    )
    question: Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUESTION_CHARS)] = (
        Field(description="The question, as a live Ask would send it.")
    )


class BatchJobSubmitted(_Event):
    """A batch of questions, or "summarise every document of the tenant", to answer offline."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "job_id": "faq-2026-12-02",
                    "tenant": "acme",
                    "questions": [
                        {"id": "q1", "question": "How many vacation days do employees get?"}
                    ],
                },
                {"job_id": "digest-acme-1", "tenant": "acme", "summarise_documents": True},
            ]
        },
    )

    job_id: JobId = Field(
        description="Producer's id of the job, unique forever: a job sent again with the same "
        "id and content is the same job (its finished items are not redone)."
    )
    tenant: Tenant = Field(description="Tenant whose documents answer the questions.")
    user_id: str = Field("", max_length=256, description="On whose behalf, if anyone's.")
    groups: list[Label] = Field(
        default_factory=list, max_length=256, description="The asker's access groups."
    )
    prompt_version: str = Field(
        "",
        pattern=r"^([a-z0-9_-]+(@[0-9]+)?)?$",
        description="Prompt version or label; empty: the service's default, as for Ask.",
    )
    top_k: int = Field(0, ge=0, le=20, description="Passages per answer; 0: the default.")
    bypass_cache: bool = Field(
        False, description="Compute every answer afresh, as Ask's bypass_cache does."
    )
    questions: list[BatchQuestion] = Field(
        default_factory=list,
        max_length=MAX_JOB_ITEMS,
        description="The questions; or send `summarise_documents` instead.",
    )
    summarise_documents: bool = Field(
        False,
        description="Summarise every document of the tenant (listed through retrieval), one "
        "item per document, instead of `questions`.",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> BatchJobSubmitted:
        if self.summarise_documents == bool(self.questions):
            raise ValueError("send `questions` (at least one) or `summarise_documents`, not both")
        ids = self.item_ids()
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique within a job")
        return self

    def item_ids(self) -> list[str]:
        """The effective id of each question: its own, else its index."""
        return [q.id if q.id is not None else str(i) for i, q in enumerate(self.questions)]


class BatchItemKind(StrEnum):
    """What a batch item asks."""

    QUESTION = "question"
    SUMMARY = "summary"


class BatchItemQueued(_Event):
    """One item of an expanded job (internal: answers.items.v1, key = job id)."""

    job_id: JobId = Field(description="The job.")
    item_id: ItemId = Field(description="The item's id, unique in the job.")
    index: int = Field(ge=0, description="Position of the item in the job.")
    total: int = Field(ge=1, le=MAX_JOB_ITEMS, description="Items in the job.")
    kind: BatchItemKind = Field(description="question or summary.")
    tenant: Tenant = Field(description="Tenant of the job.")
    user_id: str = Field("", description="On whose behalf.")
    groups: list[str] = Field(default_factory=list, description="Access groups.")
    prompt_version: str = Field("", description="Prompt version or label; empty: default.")
    top_k: int = Field(0, ge=0, le=20, description="Passages per answer; 0: the default.")
    bypass_cache: bool = Field(False, description="Compute the answer afresh.")
    question: str = Field(description="What is asked (for a summary: the summary request).")
    document_id: str = Field("", description="The document summarised (summary items).")


class BatchItemStatus(StrEnum):
    """Outcome of one batch item."""

    ANSWERED = "answered"
    FAILED = "failed"


class BatchCitation(BaseModel):
    """A passage an answer cites."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    marker: int = Field(ge=1, description="The [n] marker in the answer.")
    chunk_id: str = Field(description="Chunk id (Assistant.GetPassage takes it).")
    document_id: str = Field(description="Document the chunk belongs to.")
    title: str = Field("", description="Document title.")
    source: str = Field("", description="Document source link.")


class BatchUsage(BaseModel):
    """Tokens and cost of one answer, as the ask flow counted them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt_tokens: int = Field(0, ge=0, description="Input tokens.")
    completion_tokens: int = Field(0, ge=0, description="Output tokens.")
    cost_usd: float = Field(0.0, ge=0, description="Cost from GENERATION_PRICES (0: local).")
    model: str = Field("", description="Engine or model that answered.")


class BatchItemAnswered(_Event):
    """The result of one batch item (answers.results.v1, key = `job id/item id`)."""

    result_id: str = Field(description="uuid5 of (job, item): the same for a re-produced result.")
    job_id: JobId = Field(description="The job.")
    item_id: ItemId = Field(description="The item.")
    index: int = Field(ge=0, description="Position of the item in the job.")
    tenant: Tenant = Field(description="Tenant of the job.")
    kind: BatchItemKind = Field(description="question or summary.")
    question: str = Field(description="What was asked.")
    document_id: str = Field("", description="The document summarised (summary items).")
    status: BatchItemStatus = Field(description="answered, or failed (see `error_*`).")
    answer: str = Field("", description="The answer (a refusal is an answer, with flags).")
    answer_id: str = Field("", description="Answer id (feedback takes it).")
    citations: list[BatchCitation] = Field(default_factory=list, description="Cited passages.")
    usage: BatchUsage = Field(default_factory=BatchUsage, description="Tokens and cost.")
    cached: bool = Field(False, description="Served from the answer cache (cost 0).")
    prompt_version: str = Field("", description="Prompt version that answered.")
    route: str = Field("", description="Route the ask flow chose.")
    guardrail_flags: list[str] = Field(default_factory=list, description="Guardrail findings.")
    error_type: str = Field("", description="Why a failed item failed: a class, e.g. invalid.")
    error_reason: str = Field("", description="Readable reason of a failure.")
    duration_ms: float = Field(0.0, ge=0, description="Time the ask flow took for this item.")
    answered_at: datetime = Field(default_factory=utc_now, description="When it was answered.")

    @property
    def key(self) -> str:
        """Kafka key of this result."""
        return job_item_key(self.job_id, self.item_id)


class BatchJobCompleted(_Event):
    """Every item of a job has its result (answers.completed.v1, key = job id)."""

    job_id: JobId = Field(description="The job.")
    tenant: Tenant = Field(description="Tenant of the job.")
    items: int = Field(ge=0, description="Items in the job.")
    answered: int = Field(ge=0, description="Items answered.")
    failed: int = Field(ge=0, description="Items failed (their results say why).")
    cached: int = Field(0, ge=0, description="Items served from the answer cache.")
    prompt_tokens: int = Field(0, ge=0, description="Input tokens over all items.")
    completion_tokens: int = Field(0, ge=0, description="Output tokens over all items.")
    cost_usd: float = Field(0.0, ge=0, description="The job's cost: the sum of its items'.")
    completed_at: datetime = Field(default_factory=utc_now, description="When it completed.")
