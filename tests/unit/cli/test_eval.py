"""`genai eval retrieval` without a stack: configurations, corpus payloads, reports."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from contracts.rpc import retrieval_pb2
from genai_cli.app import build_parser
from genai_cli.errors import CliError
from genai_cli.eval import _default_tenant, _evaluation_module
from genai_cli.eval.configs import Config, parse_configs
from genai_cli.eval.corpus import corpus_documents
from genai_cli.eval.report import POOLING, console_table, markdown_fragment, write_chart


def test_configurations_name_a_method_and_an_optional_dense_weight() -> None:
    assert parse_configs("bm25,dense,rrf,dbsf:0.7") == [
        Config("bm25", retrieval_pb2.FUSION_METHOD_SPARSE_ONLY),
        Config("dense", retrieval_pb2.FUSION_METHOD_DENSE_ONLY),
        Config("rrf", retrieval_pb2.FUSION_METHOD_RRF),
        Config("dbsf:0.7", retrieval_pb2.FUSION_METHOD_DBSF, 0.7),
    ]
    for bad in ("bm25:0.5", "dbsf:1.5", "dbsf:.", "splade", "rrf,rrf"):
        with pytest.raises(CliError):
            parse_configs(bad)


def test_corpus_entries_become_text_documents_with_valid_ids() -> None:
    documents, refused = corpus_documents(
        {
            "library/os.html#os.path": ("os.path", "Common pathname manipulations."),
            "empty": ("Nothing", "  "),
        },
        tenant="eval-x",
        version=7,
    )
    assert refused == {"empty": "no text"}
    (document,) = documents
    assert document.corpus_id == "library/os.html#os.path"
    assert document.document_id.startswith("library/os.html_os.path-")
    payload = json.loads(document.value)
    assert payload["media_type"] == "text/plain" and payload["title"] == "os.path"
    assert (payload["tenant"], payload["version"], payload["id"]) == (
        "eval-x",
        7,
        document.document_id,
    )


def test_the_command_is_registered_and_tenants_default_per_dataset(tmp_path) -> None:
    args = build_parser().parse_args(["eval", "retrieval", str(tmp_path), "--limit-queries", "3"])
    assert args.limit_queries == 3 and args.configs == "bm25,dense,rrf,dbsf"
    assert _default_tenant(tmp_path / "Python FAQ") == "eval-python-faq"
    assert _evaluation_module("metrics").pool_by_document([("a", 1.0)]) == ["a"]


def _summary(name: str, ndcg: float) -> SimpleNamespace:
    return SimpleNamespace(
        name=name,
        queries=87,
        ndcg_at_10=ndcg,
        recall_at_10=0.5,
        recall_at_100=0.9,
        mrr_at_10=0.6,
        p50_ms=12.3,
        p95_ms=45.6,
    )


def test_reports_hold_every_configuration_and_mark_the_best(tmp_path) -> None:
    summaries = [_summary("bm25", 0.31), _summary("dense", 0.42)]
    table = console_table(summaries)
    assert "nDCG@10" in table and "0.420" in table and "45.6" in table
    fragment = markdown_fragment(
        summaries, heading="python-faq", facts=["Dataset."], command="genai eval retrieval d"
    )
    assert "| **dense** | 0.420 |" in fragment and "| bm25 | 0.310 |" in fragment
    assert POOLING in fragment and "genai eval retrieval d" in fragment
    difference = SimpleNamespace(mean=0.11, low=0.02, high=0.2, wins=30, losses=12)
    versus = markdown_fragment(
        summaries,
        heading="h",
        facts=[],
        command="c",
        differences={"dense": difference},
        baseline="bm25",
    )
    assert "ΔnDCG@10 vs bm25 [95% CI]" in versus
    assert (
        "| **dense** | 0.420 | 0.500 | 0.900 | 0.600 | 12.3 | 45.6 | +0.110 [+0.020, +0.200] | 30/12 |"
        in versus
    )
    assert "| bm25 | 0.310 | 0.500 | 0.900 | 0.600 | 12.3 | 45.6 | (baseline) |  |" in versus
    assert "+0.110" in console_table(summaries, {"dense": difference}, "bm25")
    chart = tmp_path / "chart.png"
    write_chart(summaries, chart, title="python-faq")
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
