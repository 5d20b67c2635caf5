"""`genai eval answers` without a stack: options, the sample corpus's payloads, reports."""

from __future__ import annotations

import json

import pytest

from contracts import DocumentSubmitted
from genai_cli.app import build_parser
from genai_cli.errors import CliError
from genai_cli.eval import _evaluation_module
from genai_cli.eval.answer_report import answers_console_table, answers_markdown
from genai_cli.eval.answers import _split, acme_documents


def test_the_command_is_registered_with_its_defaults() -> None:
    args = build_parser().parse_args(["eval", "answers", "--faq-sample", "30"])
    assert args.sets == "acme,python-faq"
    assert args.routes == "auto,documents"
    assert args.engines is None  # every prompt version the server lists
    assert args.faq_sample == 30 and not args.no_ingest


def test_unknown_sets_routes_and_engines_are_refused() -> None:
    assert _split("auto, documents", ("auto", "documents", "calculator"), "--routes") == [
        "auto",
        "documents",
    ]
    for bad in ("sometimes", ""):
        with pytest.raises(CliError, match="--routes"):
            _split(bad, ("auto", "documents"), "--routes")


def test_the_sample_documents_go_under_the_eval_tenant_at_one_version() -> None:
    documents = acme_documents(tenant="eval-acme", version=42)
    assert len(documents) == 12
    for document in documents:
        payload = DocumentSubmitted.model_validate(json.loads(document.value))
        assert payload.tenant == "eval-acme" and payload.version == 42
        assert payload.id == document.document_id == document.corpus_id
    with pytest.raises(CliError):
        acme_documents(tenant="Not A Tenant", version=1)


def test_reports_hold_a_row_per_set_engine_and_route() -> None:
    checks = _evaluation_module("answer_checks")
    record = checks.AnswerRecord(text="Not found in your documents.", citations={}, latency_ms=5)
    summary = checks.summarize("extractive@1", [(record, {"says_not_found": True})])
    summaries = {
        ("acme", "extractive@1", "auto"): summary,
        ("acme", "grounded@1", "auto"): summary,
    }
    table = answers_console_table(summaries)
    assert len(table.splitlines()) == 3
    assert "100% (1/1)" in table and "n/a" in table
    markdown = answers_markdown(
        summaries,
        facts=["Run now."],
        command="genai eval answers",
        failures={key: [] for key in summaries},
        threshold=checks.SUPPORT_THRESHOLD,
    )
    assert "| acme | grounded@1 | auto | 1 |" in markdown
    assert ">= 75%" in markdown
    assert markdown.rstrip().endswith("```")
