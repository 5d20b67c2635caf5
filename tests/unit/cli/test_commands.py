"""The `genai` parser and the small pieces of produce and tail, without a broker."""

from __future__ import annotations

import pytest

from genai_cli import CliError
from genai_cli.app import build_parser, main
from genai_cli.kafka import resolve_bootstrap
from genai_cli.produce import default_key, parse_headers


def test_every_command_is_there(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for command in ("up", "down", "status", "demo", "ingest", "produce", "tail"):
        assert command in out


def test_the_key_is_the_json_documents_id_else_the_file_name(tmp_path):
    assert default_key(tmp_path / "doc.json", b'{"id": "handbook", "tenant": "a"}') == "handbook"
    assert default_key(tmp_path / "doc.json", b"[1, 2]") == "doc.json"
    assert default_key(tmp_path / "notes.txt", b"plain \xff text") == "notes.txt"


def test_headers_are_name_equals_value():
    assert parse_headers(["x-trace-id=abc", "q=a=b", "empty="]) == [
        ("x-trace-id", b"abc"),
        ("q", b"a=b"),
        ("empty", b""),
    ]
    with pytest.raises(CliError):
        parse_headers(["novalue"])


def test_the_bootstrap_is_the_option_else_the_environment_else_the_stack(monkeypatch):
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("GENAI_KAFKA_PORT", "29999")
    assert resolve_bootstrap(None) == "127.0.0.1:29999"
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    assert resolve_bootstrap(None) == "kafka:9092"
    assert resolve_bootstrap("other:9092") == "other:9092"


def test_an_unreachable_broker_is_one_line_not_a_traceback(tmp_path, capsys):
    (tmp_path / "a.md").write_text("# A")
    code = main(["ingest", str(tmp_path), "--tenant", "acme", "--bootstrap", "127.0.0.1:1"])
    assert code == 1
    assert "cannot reach the Kafka broker at 127.0.0.1:1" in capsys.readouterr().err


def test_a_bad_tenant_is_refused_before_anything_is_read(tmp_path, capsys):
    assert main(["ingest", str(tmp_path), "--tenant", "Not A Tenant"]) == 1
    assert "--tenant" in capsys.readouterr().err
