"""JSON Schemas of the topic payloads, generated from the models in `events`.

Run `python -m contracts.schemas` to rewrite `schemas/`; a test fails when the
committed files are stale, so the documented schema is always the enforced one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from contracts import topics
from contracts.events import (
    BatchItemAnswered,
    BatchItemQueued,
    BatchJobCompleted,
    BatchJobSubmitted,
    DocumentChunked,
    DocumentEmbedded,
    DocumentIndexed,
    DocumentSubmitted,
    FeedbackReceived,
    Notification,
)

SCHEMA_DIR = Path(__file__).with_name("schemas")

TOPIC_MODELS = {
    topics.DOCUMENTS_SUBMITTED: DocumentSubmitted,
    topics.DOCUMENTS_CHUNKED: DocumentChunked,
    topics.DOCUMENTS_EMBEDDED: DocumentEmbedded,
    topics.DOCUMENTS_INDEXED: DocumentIndexed,
    topics.FEEDBACK_RECEIVED: FeedbackReceived,
    topics.NOTIFICATIONS: Notification,
    topics.ANSWERS_JOBS: BatchJobSubmitted,
    topics.ANSWERS_JOB_ITEMS: BatchItemQueued,
    topics.ANSWERS_JOB_RESULTS: BatchItemAnswered,
    topics.ANSWERS_JOB_COMPLETED: BatchJobCompleted,
}


def render_schemas() -> dict[str, str]:
    """Return file name -> JSON Schema text for every topic with a typed payload."""
    rendered = {}
    for topic, model in TOPIC_MODELS.items():
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://genai-platform.dev/schemas/{topic}.json",
            **model.model_json_schema(mode="validation"),
        }
        schema["title"] = topic
        rendered[f"{topic}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return rendered


def main() -> int:
    """Write the schemas next to this module."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, text in render_schemas().items():
        (SCHEMA_DIR / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
