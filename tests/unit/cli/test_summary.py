"""The ingest summary and exit code, and the matching of dead letters, without a broker."""

from __future__ import annotations

import json

from contracts import DocumentIndexed, IndexStatus
from genai_cli.ingest.confirm import dead_letter_identity
from genai_cli.ingest.files import Rejection
from genai_cli.ingest.summary import IngestReport, format_report


def _indexed(doc: str, chunks: int, reused: int, status=IndexStatus.INDEXED) -> DocumentIndexed:
    return DocumentIndexed(
        tenant="acme",
        document_id=doc,
        version=1,
        status=status,
        chunk_count=chunks,
        reused_chunks=reused,
    )


def test_summary_counts_indexed_unchanged_chunks_rejections_and_rate():
    report = IngestReport(topic="documents.backfill.v1", timeout_s=120, elapsed_s=2.0)
    report.sent = 4
    report.confirmed = {
        "a": _indexed("a", 3, 3),
        "b": _indexed("b", 4, 1),
        "c": _indexed("c", 0, 0, IndexStatus.STALE_IGNORED),
    }
    report.rejected = [
        Rejection("x.png", "unsupported_extension", "'.png'; supported: .md"),
        Rejection(
            "bad.json", "no_content", "no indexable text", "documents.backfill.deadletter.v1"
        ),
    ]
    report.unconfirmed = {"d": "d.md"}
    text = format_report(report)
    assert "sent        4 to documents.backfill.v1" in text
    assert "indexed     2 (1 unchanged: every chunk reused)" in text
    assert "stale_ignored 1" in text.replace("stale_ignored ", "stale_ignored ", 1)
    assert "chunks      7: 3 re-embedded, 4 reused" in text
    assert "rejected    2 (1 refused here, 1 dead-lettered)" in text
    assert "unsupported_extension (1, refused here)" in text
    assert "    x.png: '.png'; supported: .md" in text
    assert "no_content (1, dead-lettered on documents.backfill.deadletter.v1)" in text
    assert "unconfirmed 1 within 120 s" in text and "  d.md" in text
    assert "rate        1.5 documents/s, 3.5 chunks/s (2.0 s)" in text
    assert report.exit_code == 1


def test_a_clean_run_exits_zero_and_many_rejections_show_a_few_examples():
    report = IngestReport(topic="t", sent=1, confirmed={"a": _indexed("a", 1, 0)}, elapsed_s=1)
    assert report.exit_code == 0
    report.rejected = [Rejection(f"f{i}.png", "unsupported_extension", "r") for i in range(5)]
    text = format_report(report)
    assert "unsupported_extension (5, refused here)" in text
    assert "... and 2 more" in text
    assert report.exit_code == 1


def test_without_waiting_the_summary_says_only_what_was_sent():
    report = IngestReport(topic="t", sent=10, waited=False, elapsed_s=2)
    text = format_report(report)
    assert "indexed" not in text and "unconfirmed" not in text
    assert "rate        5.0 documents/s (2.0 s)" in text
    assert report.exit_code == 0


def test_a_dead_letter_is_identified_by_its_payload_else_by_its_key():
    submitted = json.dumps({"tenant": "acme", "id": "a.md", "version": 7}).encode()
    assert dead_letter_identity(b"a.md", submitted) == ("acme", "a.md", 7)
    chunked = json.dumps({"tenant": "acme", "document_id": "a.md", "version": 7}).encode()
    assert dead_letter_identity(b"acme/a.md", chunked) == ("acme", "a.md", 7)
    assert dead_letter_identity(b"a.md", b"{not json") == (None, "a.md", None)
    assert dead_letter_identity(None, b"garbage") is None
