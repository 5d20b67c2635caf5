"""The published JSON Schema of documents.submitted.v1 and the model decide alike.

Every field gets every value of a hostile pool (wrong types, coercible strings and
booleans, bounds and one past them, nesting, long strings); for each document the
schema and the decoder must both accept or both reject. A field added to the model
without a case here fails `test_every_field_has_cases`.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from contracts import DocumentSubmitted, topics
from contracts.events import MAX_VERSION
from contracts.schemas import SCHEMA_DIR
from platform_kafka import PoisonMessage, decode_event

_BASE = {"tenant": "acme", "id": "doc-1", "text": "Employees get 25 days of vacation."}

# JSON Schema counts 3.0 as an integer (the spec compares numbers by value); the
# contract refuses a float where it says integer, so integral floats stay out of the pool.
_POOL: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    3,
    MAX_VERSION,
    MAX_VERSION + 1,
    2**64,
    -(2**63),
    3.5,
    "",
    " ",
    "\u0000",
    "x",
    "3",
    "true",
    "acme",
    "Acme",
    "a/b:c.d-e_f",
    "bad key",
    "upsert",
    "delete",
    "text/html",
    "text/markdown",
    "application/pdf",
    "application/json",
    "text/csv",
    "application/zip",
    "aGVsbG8=",
    "aGVsbG8",
    "aGVs\nbG8=",
    "aGVs bG8=",
    "a" * 64,
    "a" * 65,
    "a" * 129,
    "a" * 257,
    "a" * 1001,
    "a" * 2001,
    [],
    ["hr"],
    [""],
    [1],
    ["a" * 129],
    [["nested"]],
    ["g"] * 64,
    ["g"] * 65,
    {},
    {"department": "hr"},
    {"department": 1},
    {"department": True},
    {"department": None},
    {"department": {"nested": "x"}},
    {"department": ["x"]},
    {"bad.key": "x"},
    {"": "x"},
    {"k" * 129: "x"},
    {"k": "v" * 1001},
    {f"k{i}": "v" for i in range(64)},
    {f"k{i}": "v" for i in range(65)},
]


def _schema() -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{topics.DOCUMENTS_SUBMITTED}.json").read_text())


def _model_accepts(document: dict[str, Any]) -> bool:
    try:
        decode_event(json.dumps(document).encode(), DocumentSubmitted)
    except PoisonMessage:
        return False
    return True


def _schema_accepts(document: dict[str, Any]) -> bool:
    return jsonschema.Draft202012Validator(_schema()).is_valid(document)


def test_every_field_has_cases() -> None:
    assert set(_schema()["properties"]) == set(DocumentSubmitted.model_fields)


@pytest.mark.parametrize("field", sorted(DocumentSubmitted.model_fields))
@pytest.mark.parametrize("operation", ["upsert", "delete", None])
def test_schema_and_model_agree_on_every_value_of_every_field(
    field: str, operation: str | None
) -> None:
    disagreements = []
    for value in _POOL:
        document = {**_BASE, field: value}
        if operation is not None and field != "operation":
            document["operation"] = operation
        schema, model = _schema_accepts(document), _model_accepts(document)
        if schema != model:
            disagreements.append(f"{field}={value!r:.60}: schema {schema}, model {model}")
    assert not disagreements, "\n".join(disagreements)


@pytest.mark.parametrize(
    "document",
    [
        {"tenant": "acme", "id": "d"},
        {"tenant": "acme", "id": "d", "operation": "delete"},
        {"tenant": "acme", "id": "d", "operation": "upsert", "text": "\t\n "},
        {"id": "d", "text": "x"},
        {"tenant": "acme", "text": "x"},
        {**_BASE, "unknown": "x"},
        {"tenant": "acme", "id": "d", "content": "aGVsbG8="},
        {"tenant": "acme", "id": "d", "content": "aGVsbG8=", "text": "hello"},
        {"tenant": "acme", "id": "d", "content": "aGVsbG8=", "text": " "},
        {"tenant": "acme", "id": "d", "media_type": "application/pdf", "content": "JVBERg=="},
        {"tenant": "acme", "id": "d", "media_type": "application/pdf", "text": "%PDF"},
        {"tenant": "acme", "id": "d", "media_type": "application/pdf", "operation": "delete"},
        {"tenant": "acme", "id": "d", "media_type": "text/csv", "content": "YSxi"},
    ],
)
def test_schema_and_model_agree_on_required_fields(document: dict[str, Any]) -> None:
    assert _schema_accepts(document) == _model_accepts(document)


@pytest.mark.parametrize(
    ("value", "why"),
    [("3", "a string is not an integer"), (True, "a boolean is not an integer")],
)
def test_the_contract_coerces_nothing(value: object, why: str) -> None:
    with pytest.raises(PoisonMessage) as caught:
        decode_event(json.dumps({**_BASE, "version": value}).encode(), DocumentSubmitted)
    assert caught.value.error_type == "schema_violation", why
    assert "version" in caught.value.reason


def test_version_is_bounded_to_a_signed_64_bit_integer() -> None:
    at_max = decode_event(json.dumps({**_BASE, "version": MAX_VERSION}).encode(), DocumentSubmitted)
    assert at_max.version == MAX_VERSION
    with pytest.raises(PoisonMessage, match="version"):
        decode_event(json.dumps({**_BASE, "version": 2**64}).encode(), DocumentSubmitted)


@pytest.mark.parametrize(
    "body",
    [
        b'{"tenant":"t","id":"d","version":' + b"9" * 5000 + b',"text":"x"}',
        b"[" * 10_000 + b"]" * 10_000,
        b'{"tenant":"t","id":"d","text":"x","metadata":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_001,
        b'{"tenant":"t","id":"d","text":"\xed\xa0\x80"}',
        b"\xff\xfe",
        b'"just a string"',
    ],
    ids=["5000-digit-version", "deep-array", "deep-metadata", "surrogate", "not-utf8", "string"],
)
def test_what_no_decoder_survives_is_poison_with_a_reason(body: bytes) -> None:
    with pytest.raises(PoisonMessage) as caught:
        decode_event(body, DocumentSubmitted)
    assert caught.value.error_type in {"invalid_json", "schema_violation"}
    assert caught.value.reason
