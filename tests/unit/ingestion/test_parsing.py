"""Every format through its parser: structure, headings, pages, offsets onto the source, errors."""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from contracts import MediaType
from contracts.events import MAX_DOCUMENT_CHARS
from ingestion_service.core.parsing import (
    Block,
    CorruptDocument,
    DocumentRejected,
    DocumentTooLarge,
    EncryptedDocument,
    UnsupportedDocument,
    parse,
)

DEBIAN_POLICY = Path("/usr/share/doc/python3/python-policy.html")

MARKDOWN = (
    "# Travel\n\n## Hotels\n\nCapped at **USD 200** per [night](http://x) &amp; \\*more\\*.\n"
    "Second line.\n\n- one\n- two `code`\n\n| Tier | Hours |\n|---|---|\n| 1 | 4 h |\n\n"
    "```python\nprint('fenced')\n```\n\n### Deep\n\n> quoted text\n"
)
HTML = (
    "<!DOCTYPE html><html><head><title>Page title</title><style>p{}</style></head><body>"
    '<nav><a href="/">Home</a></nav>'
    '<h1>Policy<a class="headerlink" href="#p">¶</a></h1>\n<p>First <b>para</b>.\n  Caf&eacute; &amp; bar&#64;x</p>'
    "<ul><li>Item one<li>Item two</ul><table><tr><th>Tier</th><td>4 h</td></tr></table>"
    "<h2>Limits</h2><dl><dt>Term</dt><dd>Meaning</dd></dl><pre>code  block</pre>"
    "<div>loose text<p>unclosed paragraph</div><script>evil()</script></body></html>"
)
PLAIN = (
    "1. STANDARD WARRANTY\n\nThe arm is covered for 24 months.\n\n"
    "WHAT IS NOT COVERED\nWear parts are excluded:\n- Consumables: grease, pads.\n\nOne last line"
)
JSON_DOC = json.dumps(
    [
        {"title": "Café menu", "price": 12.5, "tags": ["hot", "new"], "shop": {"city": "Paris"}},
        {"sku": "A-1", "note": 'tab\there "quoted" \u00e9'},
    ],
    ensure_ascii=False,
    indent=2,
)
CSV_DOC = 'name,price,note\r\nWidget,10,"says ""hi"", twice"\r\n,20,"multi\nline"\r\n'


def _pdf(*, pages: int = 3, outline: bool = False) -> bytes:
    pdf = FPDF()
    for number in range(1, pages + 1):
        pdf.add_page()
        if outline:
            pdf.start_section(f"Chapter {number}")
        pdf.set_font("Helvetica", "B", 20)
        pdf.cell(text=f"Chapter {number}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, text=f"Page {number} body text about topic {number}. " * 6)
    return bytes(pdf.output())


def _encrypted_pdf(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf(pages=1))))
    writer.encrypt(user_password=user_password, owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _docx() -> bytes:
    document = docx.Document()
    document.add_heading("Handbook", level=0)
    document.add_heading("Leave", level=1)
    document.add_paragraph("Employees get 25 days.")
    document.add_paragraph("A list item", style="List Bullet")
    document.add_heading("Rates", level=2)
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Tier", "Hours"), ("Gold", "4 h")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("After the table.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _docx_source(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    texts: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, docx.table.Table):
            for row in item.rows:
                texts.extend(p.text for cell in row.cells for p in cell.paragraphs)
        else:
            texts.append(item.text)
    return "\n".join(texts)


def _pdf_page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _assert_maps_onto(block: Block, source: str, *, escapes: str = "") -> None:
    """Each non-space character is the source's at its offset, or a decoded escape there."""
    assert 0 <= block.start < block.end <= len(source)
    for index, char in enumerate(block.text):
        if char.isspace():
            continue
        at = block.source_offset(index)
        assert source[at] == char or source[at] in escapes, (
            f"{block.text!r}[{index}] = {char!r}, source[{at}] = {source[at]!r}"
        )


def _assert_values_map_onto(blocks: list[Block], source: str, values: list[str]) -> None:
    """Record formats write their labels; each value maps onto the source exactly."""
    for value in values:
        block = next(b for b in blocks if value in b.text)
        index = block.text.index(value)
        mapped = "".join(source[block.source_offset(index + i)] for i in range(len(value)))
        assert mapped == value
        assert block.start <= block.source_offset(index) < block.end


def test_plain_text_keeps_its_headings_and_maps_onto_the_text() -> None:
    blocks = parse(PLAIN, MediaType.PLAIN)
    assert [(b.heading, b.text) for b in blocks] == [
        ("1. STANDARD WARRANTY", "The arm is covered for 24 months."),
        ("WHAT IS NOT COVERED", "Wear parts are excluded: - Consumables: grease, pads."),
        ("WHAT IS NOT COVERED", "One last line"),
    ]
    for block in blocks:
        _assert_maps_onto(block, PLAIN)
    assert [(b.heading, b.text) for b in parse("Just one line", MediaType.PLAIN)] == [
        ("", "Just one line")
    ]


def test_markdown_blocks_headings_and_source_offsets() -> None:
    blocks = parse(MARKDOWN, MediaType.MARKDOWN)
    assert [(b.heading, b.text) for b in blocks] == [
        ("Travel > Hotels", "Capped at USD 200 per night & *more*. Second line."),
        ("Travel > Hotels", "one"),
        ("Travel > Hotels", "two code"),
        ("Travel > Hotels", "Tier Hours"),
        ("Travel > Hotels", "1 4 h"),
        ("Travel > Hotels", "print('fenced')"),
        ("Travel > Hotels > Deep", "quoted text"),
    ]
    for block in blocks:
        _assert_maps_onto(block, MARKDOWN, escapes="&\\")
    assert MARKDOWN[blocks[0].start : blocks[0].end].startswith("Capped at **USD 200**")
    assert MARKDOWN[blocks[0].start : blocks[0].end].endswith("Second line.")


def test_markdown_headings_alone_are_the_text() -> None:
    assert [b.text for b in parse("# Only\n\n## Headings", MediaType.MARKDOWN)] == [
        "Only",
        "Headings",
    ]


def test_html_structure_junk_and_source_offsets() -> None:
    blocks = parse(HTML, MediaType.HTML)
    assert [(b.heading, b.text) for b in blocks] == [
        ("Policy", "First para. Café & bar@x"),
        ("Policy", "Item one"),
        ("Policy", "Item two"),
        ("Policy", "Tier 4 h"),
        ("Policy > Limits", "Term"),
        ("Policy > Limits", "Meaning"),
        ("Policy > Limits", "code block"),
        ("Policy > Limits", "loose text"),
        ("Policy > Limits", "unclosed paragraph"),
    ]
    for block in blocks:
        _assert_maps_onto(block, HTML, escapes="&")
    first = blocks[0]
    assert HTML[first.start : first.end] == "First <b>para</b>.\n  Caf&eacute; &amp; bar&#64;x"


def test_html_bytes_are_decoded_by_their_declared_charset() -> None:
    page = (
        '<html><head><meta charset="windows-1252"></head><body><p>Caf\xe9 \u20ac5</p></body></html>'
    )
    blocks = parse(page.encode("cp1252"), MediaType.HTML)
    assert [b.text for b in blocks] == ["Café €5"]


@pytest.mark.skipif(not DEBIAN_POLICY.exists(), reason="Debian's python3 docs not installed")
def test_sphinx_html_headings_without_permalinks_and_no_title() -> None:
    source = DEBIAN_POLICY.read_text(encoding="utf-8")
    blocks = parse(DEBIAN_POLICY.read_bytes(), MediaType.HTML)
    assert len(blocks) > 100
    headings = {b.heading for b in blocks}
    assert "Abstract" in headings
    assert any(h.startswith("Contents > 1. Copyright") for h in headings)
    assert not any("¶" in h or "documentation" in h for h in headings)
    assert not any(b.text == "Navigation" or "Quick search" in b.text for b in blocks)
    for block in blocks:
        _assert_maps_onto(block, source, escapes="&")


def test_json_records_become_sections_of_key_value_lines() -> None:
    blocks = parse(JSON_DOC, MediaType.JSON)
    assert [(b.heading, b.text) for b in blocks] == [
        ("Café menu", "title: Café menu; price: 12.5; tags: hot, new; shop.city: Paris"),
        ("record 2", 'sku: A-1; note: tab here "quoted" é'),
    ]
    _assert_values_map_onto(blocks, JSON_DOC, ["Café menu", "12.5", "hot", "new", "Paris", "A-1"])
    # An escaped character maps onto its backslash.
    note = blocks[1]
    assert JSON_DOC[note.source_offset(note.text.index('"'))] == "\\"
    span = JSON_DOC[blocks[0].start : blocks[0].end]
    assert span.startswith("Café menu") and span.endswith("Paris")
    assert [b.heading for b in parse('{"id": 7, "v": true}', MediaType.JSON)] == ["7"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('{"a": 1,', CorruptDocument),
        ("[1, 2]", UnsupportedDocument),
        ('"text"', UnsupportedDocument),
    ],
)
def test_json_that_is_not_records_is_rejected(body: str, error: type[DocumentRejected]) -> None:
    with pytest.raises(error) as caught:
        parse(body, MediaType.JSON)
    if error is CorruptDocument:
        assert "char 8" in str(caught.value)


def test_csv_rows_become_sections_under_the_header() -> None:
    blocks = parse(CSV_DOC, MediaType.CSV)
    assert [(b.heading, b.text) for b in blocks] == [
        ("Widget", 'name: Widget; price: 10; note: says "hi", twice'),
        ("row 2", "price: 20; note: multi line"),
    ]
    _assert_values_map_onto(blocks, CSV_DOC, ["Widget", "10", "says ", "20", "multi", "line"])
    assert CSV_DOC[blocks[1].start : blocks[1].end] == '20,"multi\nline'


def test_pdf_pages_and_font_size_headings() -> None:
    data = _pdf(pages=3)
    blocks = parse(data, MediaType.PDF)
    assert {b.page for b in blocks} == {1, 2, 3}
    assert {b.heading for b in blocks if b.page == 2} == {"Chapter 2"}
    assert all("Chapter" not in b.text for b in blocks)
    pages = _pdf_page_texts(data)
    for block in blocks:
        _assert_maps_onto(block, pages[block.page - 1])
    assert "Page 3 body text" in pages[2][blocks[-1].start : blocks[-1].end]


def test_pdf_outline_gives_headings() -> None:
    blocks = parse(_pdf(pages=2, outline=True), MediaType.PDF)
    assert sorted({(b.page, b.heading) for b in blocks}) == [(1, "Chapter 1"), (2, "Chapter 2")]


def test_pdf_with_a_user_password_is_encrypted_and_an_empty_one_is_read() -> None:
    with pytest.raises(EncryptedDocument):
        parse(_encrypted_pdf("secret"), MediaType.PDF)
    blocks = parse(_encrypted_pdf(""), MediaType.PDF)
    assert blocks and blocks[0].heading == "Chapter 1"


def test_docx_headings_paragraphs_and_table_rows() -> None:
    data = _docx()
    blocks = parse(data, MediaType.DOCX)
    assert [(b.heading, b.text) for b in blocks] == [
        ("Leave", "Employees get 25 days."),
        ("Leave", "A list item"),
        ("Leave > Rates", "Tier Hours"),
        ("Leave > Rates", "Gold 4 h"),
        ("Leave > Rates", "After the table."),
    ]
    source = _docx_source(data)
    for block in blocks:
        _assert_maps_onto(block, source)


def test_docx_that_is_not_one() -> None:
    with pytest.raises(CorruptDocument, match="not a zip"):
        parse(b"PK? not really", MediaType.DOCX)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(CorruptDocument):
        parse(archive.getvalue(), MediaType.DOCX)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    with pytest.raises(EncryptedDocument):
        parse(ole + "EncryptedPackage".encode("utf-16-le"), MediaType.DOCX)
    with pytest.raises(UnsupportedDocument):
        parse(ole, MediaType.DOCX)


@pytest.mark.parametrize("media_type", [MediaType.PDF, MediaType.DOCX])
def test_random_and_truncated_binaries_raise_only_rejections(media_type: MediaType) -> None:
    rng = random.Random(7)
    good = _pdf(pages=2) if media_type is MediaType.PDF else _docx()
    bodies = [rng.randbytes(rng.randint(0, 4000)) for _ in range(20)]
    bodies += [good[: len(good) * k // 10] for k in range(10)]
    bodies += [good[:200] + rng.randbytes(500) + good[700:] for _ in range(5)]
    for body in bodies:
        try:
            parse(body, media_type)
        except DocumentRejected as exc:
            assert exc.error_type in {
                "corrupt_document",
                "encrypted_document",
                "unsupported_document",
            }


def test_text_bytes_are_utf8_with_or_without_a_bom_and_control_characters_are_spaces() -> None:
    blocks = parse("Hello\x00 world".encode("utf-8-sig"), MediaType.PLAIN)
    assert [b.text for b in blocks] == ["Hello world"]
    assert [b.text for b in parse("Grüße".encode("utf-16"), MediaType.PLAIN)] == ["Grüße"]
    with pytest.raises(CorruptDocument, match="byte 1"):
        parse(b"a\xff", MediaType.MARKDOWN)


def test_too_much_text_is_rejected() -> None:
    with pytest.raises(DocumentTooLarge) as caught:
        parse(b"x" * (MAX_DOCUMENT_CHARS + 1), MediaType.PLAIN)
    assert caught.value.error_type == "document_too_large"
