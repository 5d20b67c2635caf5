"""One document of every format through Kafka: indexed, searchable, located; bad files dead-lettered."""

from __future__ import annotations

import base64
import io
import json
import random

import docx
import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from contracts import IndexStatus, topics
from contracts.rpc import assistant_pb2, common_pb2
from platform_stack.documents import push_documents, read_dead_letters, run, wait_for_indexed

pytestmark = pytest.mark.integration

MARKDOWN = "# Fleet\n\n## Tyres\n\nWinter tyres are fitted on every van from **November** on.\n"
HTML = (
    "<html><head><title>Canteen</title></head><body><h1>Canteen</h1>"
    "<p>The canteen serves <b>vegetarian</b> lasagne on Thursdays.</p></body></html>"
)
JSON_DOC = json.dumps([{"name": "Aurora printer", "floor": 4, "toner": "replaced monthly"}])
CSV_DOC = "name,location,parking\r\nHQ garage,Basement,Electric chargers on level minus two\r\n"
PLAIN = "Bicycles may be parked in the courtyard racks overnight."


def _pdf() -> bytes:
    pdf = FPDF()
    for title, body in [
        ("Safety", "Helmets are worn in the warehouse at all times. " * 3),
        ("Forklifts", "Forklift drivers renew their licence every three years. " * 3),
    ]:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 20)
        pdf.cell(text=title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, text=body)
    return bytes(pdf.output())


def _encrypted(pdf: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _docx() -> bytes:
    document = docx.Document()
    document.add_heading("Expenses", level=1)
    document.add_paragraph("Taxi receipts are reimbursed within fourteen days.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _search(assistant, principal, query: str) -> list[common_pb2.Passage]:
    response = assistant.Search(
        assistant_pb2.SearchRequest(principal=principal, query=query, top_k=5), timeout=20
    )
    return list(response.passages)


def test_every_format_is_indexed_and_bad_files_are_dead_lettered(
    stack, assistant, principal, tenant, make_document
):
    pdf = _pdf()
    good = {
        "md": make_document("md", MARKDOWN, media_type="text/markdown"),
        "html": make_document("html", "", media_type="text/html", content=_b64(HTML.encode())),
        "json": make_document("json", JSON_DOC, media_type="application/json"),
        "csv": make_document("csv", CSV_DOC, media_type="text/csv"),
        "plain": make_document("plain", PLAIN),
        "pdf": make_document("pdf", "", media_type="application/pdf", content=_b64(pdf)),
        "docx": make_document(
            "docx",
            "",
            media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            content=_b64(_docx()),
        ),
    }
    for doc in good.values():
        if not doc["text"]:
            del doc["text"]
    bad = {
        "corrupt-pdf": {"media_type": "application/pdf", "content": _b64(pdf[: len(pdf) // 3])},
        "encrypted-pdf": {"media_type": "application/pdf", "content": _b64(_encrypted(pdf))},
        "random-docx": {
            "media_type": good["docx"]["media_type"],
            "content": _b64(random.Random(3).randbytes(3000)),
        },
    }
    bad_docs = []
    for doc_id, fields in bad.items():
        doc = make_document(doc_id, "", **fields)
        del doc["text"]
        bad_docs.append(doc)
    # Bad files between good ones: the ones behind them are indexed all the same.
    order = [good["md"], bad_docs[0], good["html"], good["json"], bad_docs[1], good["csv"]]
    order += [good["plain"], bad_docs[2], good["pdf"], good["docx"]]
    run(push_documents(stack.config.kafka_bootstrap, order))

    indexed = run(
        wait_for_indexed(stack.config.kafka_bootstrap, {(tenant, doc_id, 0) for doc_id in good})
    )
    assert {e.status for e in indexed.values()} == {IndexStatus.INDEXED}

    dead = run(
        read_dead_letters(
            stack.config.kafka_bootstrap,
            topics.DOCUMENTS_SUBMITTED_DEAD_LETTER,
            {doc_id.encode() for doc_id in bad},
        )
    )
    types = {key.decode(): dead[key]["headers"]["x-error-type"] for key in dead}
    assert types["corrupt-pdf"] == "corrupt_document"
    assert types["encrypted-pdf"] == "encrypted_document"
    assert types["random-docx"] == "corrupt_document"
    assert "password" in dead[b"encrypted-pdf"]["headers"]["x-error-reason"]

    sources = {
        "md": MARKDOWN,
        "html": HTML,
        "json": JSON_DOC,
        "csv": CSV_DOC,
        "plain": PLAIN,
    }
    queries = {
        "md": ("winter tyres on vans", "November"),
        "html": ("vegetarian lasagne in the canteen", "lasagne"),
        "json": ("Aurora printer toner", "replaced monthly"),
        "csv": ("electric chargers in the garage", "Electric chargers"),
        "plain": ("where to park bicycles overnight", "courtyard"),
        "pdf": ("forklift licence renewal", "licence"),
        "docx": ("taxi receipts reimbursed", "fourteen days"),
    }
    for doc_id, (query, expected) in queries.items():
        hits = [p for p in _search(assistant, principal, query) if p.document_id == doc_id]
        assert hits, f"{doc_id}: not found by {query!r}"
        passage = hits[0]
        assert expected in passage.text
        assert passage.end > passage.start
        if doc_id in sources:
            # Offsets slice the submitted text to the passage.
            located = sources[doc_id][passage.start : passage.end]
            assert expected in located or expected in " ".join(located.split())
    pdf_hit = next(
        p for p in _search(assistant, principal, "forklift licence") if p.document_id == "pdf"
    )
    assert pdf_hit.page == 2
    assert pdf_hit.heading == "Forklifts"
    page_text = PdfReader(io.BytesIO(pdf)).pages[1].extract_text()
    assert "licence" in page_text[pdf_hit.start : pdf_hit.end]
    md_hit = next(p for p in _search(assistant, principal, "winter tyres") if p.document_id == "md")
    assert md_hit.heading == "Fleet > Tyres" and md_hit.page == 0
    # An answer's citation points at the same place: page, heading and offsets.
    answer = assistant.Ask(
        assistant_pb2.AskRequest(
            principal=principal, question="When must a forklift licence be renewed?"
        ),
        timeout=30,
    )
    cited = [c for c in answer.citations if c.document_id == "pdf"]
    assert cited, answer
    assert (cited[0].page, cited[0].heading) == (2, "Forklifts")
    assert "licence" in page_text[cited[0].start : cited[0].end]
