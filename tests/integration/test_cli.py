"""`genai produce`, `genai tail` and `genai ingest` end to end, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from confluent_kafka.admin import AdminClient

from contracts import topics
from platform_stack.documents import read_dead_letters, run, wait_for_indexed

pytestmark = pytest.mark.integration


def _genai(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """The command as installed: its own process, its own output."""
    return subprocess.run(
        [sys.executable, "-m", "genai_cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_produce_sends_files_and_tail_shows_a_dead_letters_reason(stack, tenant, tmp_path):
    bootstrap = stack.config.kafka_bootstrap
    good = tmp_path / "doc.json"
    good.write_text(json.dumps({"tenant": tenant, "id": "policy", "text": "Badges at all times."}))
    broken_key = f"broken-{uuid.uuid4().hex[:8]}"
    broken = tmp_path / "broken.json"
    broken.write_text('{"tenant": "' + tenant + '", "id": ')

    sent = _genai("produce", topics.DOCUMENTS_SUBMITTED, str(good), "-b", bootstrap)
    assert sent.returncode == 0, sent.stderr
    assert f"{good}: {topics.DOCUMENTS_SUBMITTED} [" in sent.stdout
    assert "key=policy" in sent.stdout  # the JSON document's id
    sent = _genai(
        "produce", topics.DOCUMENTS_SUBMITTED, str(broken), "--key", broken_key,
        "--header", "x-trace-id=cli-produce", "-b", bootstrap,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    run(wait_for_indexed(bootstrap, {(tenant, "policy", 0)}))
    run(read_dead_letters(bootstrap, topics.DOCUMENTS_SUBMITTED_DEAD_LETTER, {broken_key.encode()}))

    tail = _genai(
        "tail", topics.DOCUMENTS_SUBMITTED_DEAD_LETTER, "--from-beginning", "--timeout", "3",
        "-b", bootstrap,
    )  # fmt: skip
    assert tail.returncode == 0, tail.stderr
    record = tail.stdout.split(f"key: {broken_key}\n", 1)[1].split("\n--- ", 1)[0]
    assert "header x-error-type: invalid_json" in record
    assert "header x-error-reason: " in record
    assert "header x-trace-id: cli-produce" in record
    assert f'value: {{"tenant": "{tenant}", "id": ' in record

    # With a group, the second run starts where the first left off.
    group = f"cli-{uuid.uuid4().hex[:8]}"
    first = _genai(
        "tail", topics.DOCUMENTS_SUBMITTED_DEAD_LETTER, "--group", group, "--from-beginning",
        "--timeout", "10", "-b", bootstrap,
    )  # fmt: skip
    assert f"key: {broken_key}" in first.stdout
    again = _genai(
        "tail", topics.DOCUMENTS_SUBMITTED_DEAD_LETTER, "--group", group, "--from-beginning",
        "--timeout", "10", "-b", bootstrap,
    )  # fmt: skip
    assert again.returncode == 0 and f"key: {broken_key}" not in again.stdout


def _folder(tmp_path):
    folder = tmp_path / "handbook"
    (folder / "policies").mkdir(parents=True)
    (folder / "policies" / "leave.md").write_text(
        "# Leave\n\n## Vacation\n\nEmployees get 25 days of paid vacation a year.\n"
    )
    (folder / "expenses.html").write_text(
        "<html><head><title>Expenses &amp; travel</title></head><body><h1>Hotels</h1>"
        "<p>Hotel stays are capped at USD 325 per night in London.</p></body></html>"
    )
    (folder / "broken.json").write_text('{"records": [{"name": "a"}, ')
    (folder / "diagram.xyz").write_bytes(b"\x00\x01")
    return folder


def _backfill_consumed(bootstrap: str) -> bool:
    return (
        topics.DOCUMENTS_BACKFILL
        in AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
    )


@pytest.mark.parametrize("live", [True, False], ids=["live", "backfill"])
def test_ingest_a_folder_reports_indexed_reused_and_rejected(stack, tenant, tmp_path, live):
    bootstrap = stack.config.kafka_bootstrap
    if not live and not _backfill_consumed(bootstrap):
        pytest.skip(f"no {topics.DOCUMENTS_BACKFILL} on this stack: nothing consumes it yet")
    folder = _folder(tmp_path)
    options = ["--tenant", tenant, "--groups", "hr", "--timeout", "90", "-b", bootstrap]
    options += ["--live"] if live else []
    topic = topics.DOCUMENTS_SUBMITTED if live else topics.DOCUMENTS_BACKFILL

    first = _genai("ingest", str(folder), *options)
    summary = first.stdout
    assert first.returncode == 1, summary + first.stderr  # something was rejected
    assert f"sent        3 to {topic}" in summary
    assert "indexed     2 (0 unchanged: every chunk reused)" in summary
    assert "rejected    2 (1 refused here, 1 dead-lettered)" in summary
    assert "unsupported_extension (1, refused here)" in summary
    assert "    diagram.xyz: '.xyz'; supported:" in summary
    dead_letter_topic = (
        topics.DOCUMENTS_SUBMITTED_DEAD_LETTER if live else topics.DOCUMENTS_BACKFILL_DEAD_LETTER
    )
    assert f"dead-lettered on {dead_letter_topic})\n    broken.json: " in summary
    assert "unconfirmed 0 within 90 s" in summary
    chunks = int(summary.split("chunks      ", 1)[1].split(":", 1)[0])
    assert chunks >= 2
    assert f"chunks      {chunks}: {chunks} re-embedded, 0 reused" in summary
    assert "documents/s" in summary and "chunks/s" in summary

    # Unchanged files: same ids and versions, every chunk reused, nothing re-embedded; the
    # first run's confirmations, already on the topic, are not counted again.
    again = _genai("ingest", str(folder), *options).stdout
    assert "indexed     2 (2 unchanged: every chunk reused)" in again
    assert f"chunks      {chunks}: 0 re-embedded, {chunks} reused" in again
