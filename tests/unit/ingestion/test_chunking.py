"""Parsing keeps structure."""

from __future__ import annotations

from contracts import DocumentSubmitted, MediaType, Operation
from ingestion_service.adapters import ModelTokenizer, packaged_tokenizer_path, sentence_spans
from ingestion_service.core import Chunker, ChunkingPolicy, parse, to_chunked_event


def test_markdown_headings_become_heading_paths() -> None:
    blocks = parse(
        "# Travel\n\n## Hotels\n\nCapped at **USD 200**.\n\n- one\n- two", MediaType.MARKDOWN
    )
    assert [b.heading for b in blocks] == ["Travel > Hotels"] * 3
    assert blocks[0].text == "Capped at USD 200."
    assert [b.text for b in blocks[1:]] == ["one", "two"]


def test_html_drops_scripts_and_keeps_table_rows() -> None:
    html = (
        "<html><head><title>T</title><script>evil()</script></head><body>"
        "<h1>Policy</h1><p>First <b>para</b>.</p><table><tr><td>Tier 1</td><td>4 h</td></tr></table>"
        "</body></html>"
    )
    blocks = parse(html, MediaType.HTML)
    assert [(b.heading, b.text) for b in blocks] == [
        ("Policy", "First para."),
        ("Policy", "Tier 1 4 h"),
    ]


def test_delete_event_carries_no_chunks() -> None:
    doc = DocumentSubmitted(tenant="acme", id="d1", operation=Operation.DELETE, version=4)
    chunker = Chunker(ChunkingPolicy(), ModelTokenizer(packaged_tokenizer_path()), sentence_spans)
    event = to_chunked_event(doc, chunker)
    assert event.chunks == [] and event.version == 4 and event.key == "acme/d1"


def test_plain_text_headings_stand_alone_or_shout_but_list_items_never_are() -> None:
    text = (
        "1. STANDARD WARRANTY\n\nThe arm is covered for 24 months.\n\n"
        "WHAT IS NOT COVERED\nWear parts are excluded:\n"
        "- Consumables: grease, encoder backup batteries, fan filters, gripper\n"
        "pads and cables.\n\nShort note without a stop\nthat continues on the next line."
    )
    blocks = parse(text, MediaType.PLAIN)
    assert [(b.heading, b.text) for b in blocks] == [
        ("1. STANDARD WARRANTY", "The arm is covered for 24 months."),
        (
            "WHAT IS NOT COVERED",
            "Wear parts are excluded: - Consumables: grease, encoder backup batteries, fan filters, gripper pads and cables.",
        ),
        ("WHAT IS NOT COVERED", "Short note without a stop that continues on the next line."),
    ]
