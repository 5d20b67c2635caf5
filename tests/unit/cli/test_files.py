"""Files to documents without a broker: media types, ids, bodies, limits, walking."""

from __future__ import annotations

import base64
import json
import os
import re

import pytest

from contracts import DocumentSubmitted, MediaType
from contracts.events import DOCUMENT_ID_PATTERN, MAX_DOCUMENT_CHARS
from genai_cli import CliError
from genai_cli.ingest.files import (
    Prepared,
    Rejection,
    SourceFile,
    document_id_for,
    html_title,
    media_type_for,
    prepare,
    walk,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.txt", MediaType.PLAIN),
        ("a.TEXT", MediaType.PLAIN),
        ("a.md", MediaType.MARKDOWN),
        ("a.markdown", MediaType.MARKDOWN),
        ("a.html", MediaType.HTML),
        ("a.HTM", MediaType.HTML),
        ("a.json", MediaType.JSON),
        ("a.csv", MediaType.CSV),
        ("a.pdf", MediaType.PDF),
        ("a.docx", MediaType.DOCX),
        ("a.png", None),
        ("Makefile", None),
        ("a.md.bak", None),
    ],
)
def test_media_type_by_extension(tmp_path, name, expected):
    assert media_type_for(tmp_path / name) is expected


@pytest.mark.parametrize(
    "relative",
    ["handbook.md", "policies/travel/hotels.md", "a-b_c.d:e/f.txt"],
)
def test_an_id_that_fits_is_the_relative_path(relative):
    assert document_id_for(relative) == relative


@pytest.mark.parametrize(
    "relative",
    ["My notes/été.md", "a b.md", "x" * 300 + ".md", "日本語.txt", "a?b#c.md"],
)
def test_an_id_that_does_not_fit_is_cleaned_and_suffixed_deterministically(relative):
    derived = document_id_for(relative)
    assert re.fullmatch(DOCUMENT_ID_PATTERN, derived)
    assert derived == document_id_for(relative)
    assert re.search(r"-[0-9a-f]{10}$", derived)


def test_paths_that_clean_up_alike_keep_different_ids():
    assert document_id_for("a b.md") != document_id_for("a?b.md")
    assert document_id_for("My notes/été.md").startswith("My_notes/_t_.md-")


def test_html_title_is_read_and_unescaped():
    raw = b"<html><head><TITLE>\n Q3 &amp; Q4\n plans</TITLE></head><body>x</body></html>"
    assert html_title(raw) == "Q3 & Q4 plans"
    assert html_title(b"<p>no title</p>") == ""


def test_walk_finds_files_relative_to_their_argument_and_skips_hidden(tmp_path):
    (tmp_path / "docs/guides").mkdir(parents=True)
    (tmp_path / "docs/.git").mkdir()
    (tmp_path / "docs/guides/setup.md").write_text("x")
    (tmp_path / "docs/readme.txt").write_text("x")
    (tmp_path / "docs/.env").write_text("x")
    (tmp_path / "docs/.git/config").write_text("x")
    (tmp_path / "single.md").write_text("x")
    found = walk([tmp_path / "docs", tmp_path / "single.md"])
    assert [f.relative for f in found] == ["readme.txt", "guides/setup.md", "single.md"]
    assert all(f.path.is_absolute() for f in found)


def test_walk_names_a_missing_argument(tmp_path):
    with pytest.raises(CliError, match="no such file"):
        walk([tmp_path / "missing"])


def _prepare(tmp_path, name: str, data: bytes, **options) -> Prepared | Rejection:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return prepare(
        SourceFile(path, name), tenant="acme", groups=options.pop("groups", []), **options
    )


def test_a_text_file_goes_as_text_with_mtime_version_title_and_source(tmp_path):
    doc = _prepare(tmp_path, "guides/setup.md", b"# Setup\nRun it.", groups=["eng"])
    assert isinstance(doc, Prepared)
    payload = json.loads(doc.value)
    assert payload["text"] == "# Setup\nRun it."
    assert "content" not in payload
    assert payload["media_type"] == "text/markdown"
    assert payload["id"] == doc.document_id == "guides/setup.md"
    assert payload["title"] == "setup.md"
    assert payload["source"] == str(tmp_path / "guides/setup.md")
    assert payload["access_groups"] == ["eng"]
    assert payload["version"] == doc.version == os.stat(tmp_path / "guides/setup.md").st_mtime_ns
    DocumentSubmitted.model_validate(payload)


def test_the_same_unchanged_file_sends_the_same_payload(tmp_path):
    first = _prepare(tmp_path, "a.txt", b"hello")
    again = prepare(SourceFile(tmp_path / "a.txt", "a.txt"), tenant="acme", groups=[])
    assert isinstance(first, Prepared)
    assert first == again


def test_html_takes_its_title_and_a_source_prefix_makes_a_url(tmp_path):
    doc = _prepare(
        tmp_path,
        "wiki/a page.html",
        b"<html><title>Leave</title><p>25 days</p></html>",
        source_prefix="https://intranet/",
    )
    assert isinstance(doc, Prepared)
    payload = json.loads(doc.value)
    assert payload["title"] == "Leave"
    assert payload["source"] == "https://intranet/wiki/a%20page.html"


def test_a_text_file_not_in_utf8_goes_as_base64_content(tmp_path):
    raw = "Congé payé".encode("latin-1")
    doc = _prepare(tmp_path, "a.txt", raw)
    assert isinstance(doc, Prepared)
    payload = json.loads(doc.value)
    assert base64.b64decode(payload["content"]) == raw
    assert "text" not in payload


def test_pdf_and_docx_always_go_as_content(tmp_path):
    for name in ("a.pdf", "a.docx"):
        doc = _prepare(tmp_path, name, b"%PDF-1.4 plain ascii")
        assert isinstance(doc, Prepared)
        payload = json.loads(doc.value)
        assert base64.b64decode(payload["content"]) == b"%PDF-1.4 plain ascii"


@pytest.mark.parametrize(
    ("name", "data", "error_type"),
    [
        ("a.png", b"\x89PNG", "unsupported_extension"),
        ("Makefile", b"all:", "unsupported_extension"),
        ("a.md", b"", "no_content"),
        ("a.md", b" \n\t ", "no_content"),
        ("a.txt", b"x" * (MAX_DOCUMENT_CHARS + 1), "too_large"),
        ("a.pdf", b"x" * 4_600_000, "too_large"),
    ],
)
def test_what_the_contract_refuses_is_rejected_here_with_a_reason(tmp_path, name, data, error_type):
    rejection = _prepare(tmp_path, name, data)
    assert isinstance(rejection, Rejection)
    assert rejection.error_type == error_type
    assert rejection.where == "here"
    assert rejection.reason


def test_an_unsupported_extension_lists_the_supported_ones(tmp_path):
    rejection = _prepare(tmp_path, "a.xyz", b"x")
    assert isinstance(rejection, Rejection)
    assert "'.xyz'" in rejection.reason and ".md" in rejection.reason


def test_a_bad_group_is_a_schema_violation_named_by_field(tmp_path):
    rejection = _prepare(tmp_path, "a.txt", b"x", groups=["g" * 200])
    assert isinstance(rejection, Rejection)
    assert rejection.error_type == "schema_violation"
    assert "access_groups" in rejection.reason
