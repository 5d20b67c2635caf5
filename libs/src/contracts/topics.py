"""Kafka topic names: `<domain>.<event>.v<N>`. docs/TOPICS.md documents each one.

A breaking change to a payload gets a new topic version; producers and
consumers migrate side by side.
"""

from __future__ import annotations

from typing import Final

#: Documents pushed by outside producers (JSON, key = document id).
DOCUMENTS_SUBMITTED: Final = "documents.submitted.v1"
#: Bulk loads (`genai ingest`, re-indexing jobs): the same payload as DOCUMENTS_SUBMITTED,
#: admitted below it, so a backfill never holds up a live document.
DOCUMENTS_BACKFILL: Final = "documents.backfill.v1"
#: Messages of DOCUMENTS_BACKFILL that failed, unchanged, with the reason in headers.
DOCUMENTS_BACKFILL_DEAD_LETTER: Final = "documents.backfill.deadletter.v1"
#: Messages of DOCUMENTS_SUBMITTED that failed validation, unchanged, with the reason in headers.
DOCUMENTS_SUBMITTED_DEAD_LETTER: Final = "documents.submitted.deadletter.v1"
#: A document split into chunks (ingestion -> embedding).
DOCUMENTS_CHUNKED: Final = "documents.chunked.v1"
#: DOCUMENTS_CHUNKED messages the embedding engine can never process.
DOCUMENTS_CHUNKED_DEAD_LETTER: Final = "documents.chunked.deadletter.v1"
#: Chunks with their vectors (embedding -> retrieval).
DOCUMENTS_EMBEDDED: Final = "documents.embedded.v1"
#: DOCUMENTS_EMBEDDED messages the index can never apply.
DOCUMENTS_EMBEDDED_DEAD_LETTER: Final = "documents.embedded.deadletter.v1"
#: Confirmation that a document version is searchable, or was deleted.
DOCUMENTS_INDEXED: Final = "documents.indexed.v1"
#: End-user feedback on answers.
FEEDBACK_RECEIVED: Final = "feedback.received.v1"
#: Events for push-notification consumers (key = user id, else tenant).
NOTIFICATIONS: Final = "notifications.events.v1"
#: Batch jobs: many questions, or "summarise every document of tenant T" (key = job id).
ANSWERS_JOBS: Final = "answers.jobs.v1"
#: ANSWERS_JOBS messages that are invalid, unchanged, with the reason in headers.
ANSWERS_JOBS_DEAD_LETTER: Final = "answers.jobs.deadletter.v1"
#: A job expanded into one message per item (internal to generation; key = job id).
ANSWERS_JOB_ITEMS: Final = "answers.items.v1"
#: One result per batch item: answer, citations, usage, cost or error (key = job id/item id).
ANSWERS_JOB_RESULTS: Final = "answers.results.v1"
#: A job whose every item has its result, with totals (key = job id).
ANSWERS_JOB_COMPLETED: Final = "answers.completed.v1"

ALL_TOPICS: Final = (
    DOCUMENTS_SUBMITTED,
    DOCUMENTS_SUBMITTED_DEAD_LETTER,
    DOCUMENTS_BACKFILL,
    DOCUMENTS_BACKFILL_DEAD_LETTER,
    DOCUMENTS_CHUNKED,
    DOCUMENTS_CHUNKED_DEAD_LETTER,
    DOCUMENTS_EMBEDDED,
    DOCUMENTS_EMBEDDED_DEAD_LETTER,
    DOCUMENTS_INDEXED,
    FEEDBACK_RECEIVED,
    NOTIFICATIONS,
    ANSWERS_JOBS,
    ANSWERS_JOBS_DEAD_LETTER,
    ANSWERS_JOB_ITEMS,
    ANSWERS_JOB_RESULTS,
    ANSWERS_JOB_COMPLETED,
)
