"""The contracts are generated, fresh, and enforce what the docs say."""

from __future__ import annotations

import filecmp
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from contracts import DocumentSubmitted, topics
from contracts.schemas import SCHEMA_DIR, render_schemas
from platform_kafka import PoisonMessage, decode_event

ROOT = Path(__file__).resolve().parents[3]


def test_generated_grpc_code_is_fresh(tmp_path: Path) -> None:
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "genproto.sh"), str(tmp_path)],
        check=True,
        env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
    )
    committed = ROOT / "libs" / "generated" / "genai" / "v1"
    fresh = tmp_path / "genai" / "v1"
    names = sorted(p.name for p in fresh.iterdir() if p.is_file())
    assert names == sorted(
        p.name for p in committed.iterdir() if p.is_file() and p.suffix != ".pyc"
    )
    _, mismatch, errors = filecmp.cmpfiles(fresh, committed, names, shallow=False)
    assert not mismatch and not errors, (
        f"stale generated code: {mismatch + errors}; run `make proto`"
    )


def test_json_schemas_are_fresh() -> None:
    for name, text in render_schemas().items():
        assert (SCHEMA_DIR / name).read_text() == text, f"{name} is stale; run `make proto`"


def _document_schema() -> dict:
    return json.loads((SCHEMA_DIR / f"{topics.DOCUMENTS_SUBMITTED}.json").read_text())


@pytest.mark.parametrize(
    "path", sorted((ROOT / "examples" / "documents").glob("*.json")), ids=lambda p: p.stem
)
def test_example_documents_fit_the_schema_and_the_model(path: Path) -> None:
    body = path.read_bytes()
    jsonschema.validate(json.loads(body), _document_schema())
    assert decode_event(body, DocumentSubmitted).id == path.stem


@pytest.mark.parametrize(
    "path", sorted((ROOT / "examples" / "malformed").iterdir()), ids=lambda p: p.name
)
def test_malformed_examples_are_poison_with_a_reason(path: Path) -> None:
    with pytest.raises(PoisonMessage) as caught:
        decode_event(path.read_bytes(), DocumentSubmitted)
    assert caught.value.error_type in {"invalid_json", "schema_violation"}
    assert caught.value.reason


def test_unknown_fields_are_rejected_so_typos_cannot_widen_access() -> None:
    body = json.dumps({"tenant": "acme", "id": "d", "text": "x", "acces_groups": ["hr"]}).encode()
    with pytest.raises(PoisonMessage, match="acces_groups"):
        decode_event(body, DocumentSubmitted)


def test_delete_needs_no_text_but_upsert_does() -> None:
    assert decode_event(b'{"tenant":"acme","id":"d","operation":"delete"}', DocumentSubmitted)
    with pytest.raises(PoisonMessage, match="non-empty"):
        decode_event(b'{"tenant":"acme","id":"d","text":"   "}', DocumentSubmitted)


@pytest.mark.parametrize("topic", topics.ALL_TOPICS)
def test_every_topic_is_versioned_and_documented(topic: str) -> None:
    assert re.fullmatch(r"[a-z]+\.[a-z]+(\.deadletter)?\.v\d+", topic)
    assert f"`{topic}`" in (ROOT / "docs" / "TOPICS.md").read_text(), (
        f"{topic} missing from docs/TOPICS.md"
    )


def test_an_empty_message_says_how_to_delete_instead() -> None:
    with pytest.raises(PoisonMessage, match="operation"):
        decode_event(b"", DocumentSubmitted)
