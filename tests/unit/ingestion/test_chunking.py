"""Parsing keeps structure; chunks fit the model and cover the text."""

from __future__ import annotations

import itertools

from contracts import DocumentSubmitted, MediaType, Operation
from ingestion_service.core import ChunkingPolicy, chunk_blocks, parse, to_chunked_event


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
        ("Policy", "First para ."),
        ("Policy", "Tier 1 4 h"),
    ]


def test_long_text_is_split_within_the_word_budget_with_overlap() -> None:
    sentences = " ".join(f"Sentence number {i} talks about topic {i}." for i in range(200))
    chunks = chunk_blocks(
        parse(sentences, MediaType.PLAIN), ChunkingPolicy(max_words=50, overlap_words=10)
    )
    assert len(chunks) > 10
    assert all(len(c.text.split()) <= 60 for c in chunks)  # budget plus the overlap tail
    assert [c.index for c in chunks] == list(range(len(chunks)))
    # Every sentence lands in some chunk.
    joined = " ".join(c.text for c in chunks)
    assert all(f"topic {i}." in joined for i in range(200))
    # Each chunk starts with the last 10 words of the one before: a fact cut at a
    # boundary is whole in one of them.
    for before, after in itertools.pairwise(chunks):
        assert after.text.split()[:10] == before.text.split()[-10:]


def test_a_new_heading_starts_a_new_chunk() -> None:
    chunks = chunk_blocks(
        parse("# A\n\nalpha text\n\n# B\n\nbeta text", MediaType.MARKDOWN), ChunkingPolicy()
    )
    assert [(c.heading, c.text) for c in chunks] == [("A", "alpha text"), ("B", "beta text")]


def test_delete_event_carries_no_chunks() -> None:
    doc = DocumentSubmitted(tenant="acme", id="d1", operation=Operation.DELETE, version=4)
    event = to_chunked_event(doc, ChunkingPolicy())
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
