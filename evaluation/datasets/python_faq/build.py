"""Build the python-faq retrieval dataset (BEIR layout) from Debian's python3.11-doc HTML.

Queries are the questions of the Python FAQ (faq/*.html), the corpus is every section of every
other content page of the manual, and the graded qrels come from the links the FAQ's authors put
in each answer: 2 for the section that holds a link's anchor, 1 for the nearest other sections of
the same page (at most GRADE_1_CAP per page). See README.md next to this file.

    .venv/bin/python evaluation/datasets/python_faq/build.py [OUT] [--html DIR]

Writes OUT/corpus.jsonl, OUT/queries.jsonl, OUT/qrels/test.tsv and OUT/manifest.json
(default OUT: .cache/datasets/python-faq) and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import shutil
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

__all__ = [
    "Dataset",
    "Page",
    "Question",
    "Section",
    "build",
    "grade",
    "is_content_page",
    "parse_content_page",
    "parse_faq_page",
    "write",
]

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_HTML = Path("/usr/share/doc/python3.11/html")
DEFAULT_OUT = ROOT / ".cache" / "datasets" / "python-faq"
PACKAGE = "python3.11-doc"
GRADE_1_CAP = 10  # grade-1 sections per linked page; whatsnew pages have over 100 sections

# Navigation, indexes and include fragments: no prose of their own, or prose shown elsewhere.
# (Other include fragments, such as distutils/_setuptools_disclaimer.html, have no <section>
# and so no documents; library/_thread.html and library/__future__.html are real pages.)
_EXCLUDED_PREFIXES = ("faq/", "genindex", "_", "includes/")
_EXCLUDED_PAGES = frozenset({"index.html", "contents.html", "search.html", "py-modindex.html"})
_EXCLUDED_PAGES |= {"download.html"}  # the archive table of the online site, no sections
_BLOCKS = frozenset(
    "address article aside blockquote caption dd div dl dt figcaption figure footer h1 h2 h3 h4 "
    "h5 h6 header hr li nav ol p table tbody tfoot thead tr ul".split()
)
_INVISIBLE = (Comment, Declaration, Doctype, ProcessingInstruction)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Section:
    """One section of a content page: a corpus document."""

    page: str  # path below the html root, e.g. "library/os.html"
    anchor: str  # the <section>'s id
    heading: str
    text: str  # the heading, then the section's own content (not its subsections)
    path: tuple[str, ...]  # anchors from the page's top section down to this one
    position: int  # document order within the page

    @property
    def id(self) -> str:
        """Corpus id: page path and section anchor."""
        return f"{self.page}#{self.anchor}"


@dataclass(frozen=True)
class Page:
    """A content page: its sections and which section holds each element id."""

    path: str
    title: str
    sections: tuple[Section, ...]
    owner: dict[str, str]  # any element id on the page -> anchor of the innermost section


@dataclass(frozen=True)
class Question:
    """One FAQ question with its answer and the links in the answer (page, fragment)."""

    id: str
    text: str
    faq_page: str
    answer_text: str
    links: tuple[tuple[str, str], ...]


@dataclass
class Dataset:
    """Everything that gets written, plus the figures of the summary."""

    documents: list[dict]
    queries: list[dict]
    qrels: list[tuple[str, str, int]]
    stats: dict[str, int] = field(default_factory=dict)


# -- HTML ----------------------------------------------------------------------------------


def is_content_page(path: str) -> bool:
    """Whether a page (path below the html root) belongs to the corpus."""
    return (
        path.endswith(".html")
        and not path.startswith(_EXCLUDED_PREFIXES)
        and path not in _EXCLUDED_PAGES
    )


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _dropped(tag: Tag) -> bool:
    classes = tag.get("class") or []
    return (
        tag.name in ("script", "style", "section")  # a nested section is a document of its own
        or (tag.name == "a" and "headerlink" in classes)  # the "¶" permalinks
        or (tag.name == "nav" and "contents" in classes)  # a page's local table of contents
        or (tag.name == "div" and "toctree-wrapper" in classes)
    )


def _visible_text(root: Tag, *, skip: Tag | None = None) -> str:
    """Text of `root` without nested sections: one line per block, code blocks kept verbatim."""
    lines: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        if line := _clean("".join(buffer)):
            lines.append(line)
        buffer.clear()

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, _INVISIBLE):
                continue
            if isinstance(child, NavigableString):
                buffer.append(str(child))
            elif isinstance(child, Tag) and child is not skip and not _dropped(child):
                if child.name == "pre":
                    flush()
                    lines.append(child.get_text().strip("\n").rstrip())
                elif child.name in _BLOCKS:
                    flush()
                    walk(child)
                    flush()
                else:
                    if child.name in ("td", "th", "br"):
                        buffer.append(" ")
                    walk(child)

    walk(root)
    flush()
    return "\n".join(line for line in lines if line.strip())


def _heading(section: Tag) -> Tag | None:
    return section.find(_HEADINGS, recursive=False)


def _body(soup: BeautifulSoup) -> Tag:
    body = soup.find("div", class_="body") or soup.body
    if body is None:
        raise ValueError("no <div class='body'> and no <body>")
    return body


def _innermost_section(tag: Tag) -> Tag | None:
    return tag if tag.name == "section" else tag.find_parent("section")


def parse_content_page(path: str, html: str) -> Page:
    """Split a content page into its sections (each section's own text) and map its ids."""
    body = _body(BeautifulSoup(html, "lxml"))
    tags = body.find_all("section")
    anchors: dict[int, str] = {}
    for position, tag in enumerate(tags):
        anchor = tag.get("id") or f"section-{position}"
        anchors[id(tag)] = anchor if anchor not in anchors.values() else f"{anchor}-{position}"
    sections = []
    for position, tag in enumerate(tags):
        heading = _heading(tag)
        path_ = [anchors[id(p)] for p in reversed(tag.find_parents("section"))]
        sections.append(
            Section(
                page=path,
                anchor=anchors[id(tag)],
                heading=_visible_text(heading) if heading else "",
                text=_visible_text(tag),
                path=(*path_, anchors[id(tag)]),
                position=position,
            )
        )
    owner: dict[str, str] = {}
    for tag in body.find_all(id=True):
        section = _innermost_section(tag)
        if section is not None and id(section) in anchors:
            owner.setdefault(tag["id"], anchors[id(section)])
    title = sections[0].heading if sections else path
    return Page(path=path, title=title, sections=tuple(sections), owner=owner)


def _links(section: Tag, faq_page: str) -> tuple[tuple[str, str], ...]:
    """Links of an answer to other pages, resolved against the FAQ page: (page, fragment)."""
    links = []
    for a in section.find_all("a", href=True):
        if _innermost_section(a) is not section or "headerlink" in (a.get("class") or []):
            continue
        url = urlsplit(a["href"])
        if url.scheme or url.netloc or not url.path:
            continue  # external, or within the same FAQ page
        page = posixpath.normpath(posixpath.join(posixpath.dirname(faq_page), unquote(url.path)))
        links.append((page, unquote(url.fragment)))
    return tuple(dict.fromkeys(links))


def parse_faq_page(path: str, html: str) -> list[Question]:
    """The questions of a FAQ page: its leaf sections below the page's top section."""
    questions = []
    for tag in _body(BeautifulSoup(html, "lxml")).find_all("section"):
        if tag.find("section") is not None or tag.find_parent("section") is None:
            continue  # a category (it has questions below it) or the page itself
        heading = _heading(tag)
        answer = _visible_text(tag, skip=heading)
        if heading is None or not answer or not tag.get("id"):
            continue
        questions.append(
            Question(
                id=f"{path}#{tag['id']}",
                text=_visible_text(heading),
                faq_page=path,
                answer_text=answer,
                links=_links(tag, path),
            )
        )
    return questions


# -- relevance -----------------------------------------------------------------------------


def _distance(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return len(a) + len(b) - 2 * common


def grade(question: Question, pages: dict[str, Page], *, cap: int = GRADE_1_CAP) -> dict[str, int]:
    """Graded relevance of one question: corpus id -> 2 (linked section) or 1 (same page).

    A link without a fragment, or whose fragment is not inside any section, points at the page's
    top section. Grade 1 goes to the `cap` other sections of each linked page nearest (in the
    page's section tree, then in document order) to that page's linked sections.
    """
    targets: dict[str, set[str]] = {}
    for page_path, fragment in question.links:
        page = pages.get(page_path)
        if page is None or not page.sections:
            continue
        anchor = page.owner.get(fragment) if fragment else None
        targets.setdefault(page_path, set()).add(anchor or page.sections[0].anchor)
    grades: dict[str, int] = {}
    for page_path, anchors in sorted(targets.items()):
        page = pages[page_path]
        linked = [s for s in page.sections if s.anchor in anchors]
        grades.update((s.id, 2) for s in linked)
        others = [s for s in page.sections if s.anchor not in anchors]
        others.sort(key=lambda s: (min(_distance(s.path, t.path) for t in linked), s.position))
        grades.update((s.id, 1) for s in others[:cap])
    return grades


# -- the whole package ---------------------------------------------------------------------


def build(html_root: Path, *, cap: int = GRADE_1_CAP) -> Dataset:
    """Parse every page below `html_root` and assemble corpus, queries and qrels."""
    files = sorted(p.relative_to(html_root).as_posix() for p in html_root.rglob("*.html"))
    pages = {}
    for path in filter(is_content_page, files):
        # a page without any <section> is an include fragment: it yields no documents
        page = parse_content_page(path, (html_root / path).read_text(encoding="utf-8"))
        if page.sections:
            pages[path] = page
    questions = []
    for path in files:
        if path.startswith("faq/") and path != "faq/index.html":
            questions += parse_faq_page(path, (html_root / path).read_text(encoding="utf-8"))
    documents = [
        {
            "_id": s.id,
            "title": page.title,
            "text": s.text,
            "metadata": {"page": s.page, "section": s.anchor, "heading": s.heading},
        }
        for page in pages.values()
        for s in page.sections
    ]
    queries, qrels = [], []
    for question in questions:
        grades = grade(question, pages, cap=cap)
        if not any(g == 2 for g in grades.values()):
            continue
        queries.append(
            {
                "_id": question.id,
                "text": question.text,
                "metadata": {"faq_page": question.faq_page, "answer_text": question.answer_text},
            }
        )
        qrels += [(question.id, doc, g) for doc, g in grades.items()]
    documents.sort(key=lambda d: d["_id"])
    queries.sort(key=lambda q: q["_id"])
    qrels.sort()
    stats = {
        "pages": len(pages),
        "faq_questions": len(questions),
        "dropped_questions": len(questions) - len(queries),
        "links": sum(len(q.links) for q in questions),
        "links_into_corpus": sum(p in pages for q in questions for p, _ in q.links),
        "unresolved_fragments": sum(
            1 for q in questions for p, f in q.links if p in pages and f and f not in pages[p].owner
        ),
    }
    return Dataset(documents=documents, queries=queries, qrels=qrels, stats=stats)


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def write(dataset: Dataset, out: Path, *, source: dict[str, str]) -> None:
    """Write the BEIR files and a manifest; replaces what a previous build left in `out`."""
    ids = [d["_id"] for d in dataset.documents]
    if len(ids) != len(set(ids)) or not {doc for _, doc, _ in dataset.qrels} <= set(ids):
        raise ValueError("duplicate corpus ids, or qrels naming documents not in the corpus")
    if (out / "qrels").exists():
        shutil.rmtree(out / "qrels")
    (out / "qrels").mkdir(parents=True)
    (out / "corpus.jsonl").write_text(_jsonl(dataset.documents), encoding="utf-8")
    (out / "queries.jsonl").write_text(_jsonl(dataset.queries), encoding="utf-8")
    rows = ["query-id\tcorpus-id\tscore", *(f"{q}\t{d}\t{g}" for q, d, g in dataset.qrels)]
    (out / "qrels" / "test.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    manifest = {"source": source, "grade_1_cap": GRADE_1_CAP, "summary": summary(dataset)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def summary(dataset: Dataset) -> dict[str, float | int]:
    """The figures the dataset card quotes."""
    per_grade = Counter(g for _, _, g in dataset.qrels)
    per_query = Counter(q for q, _, g in dataset.qrels if g == 2)
    lengths = [len(d["text"]) for d in dataset.documents]
    return {
        **dataset.stats,
        "queries": len(dataset.queries),
        "documents": len(dataset.documents),
        "qrels_grade_2": per_grade[2],
        "qrels_grade_1": per_grade[1],
        "avg_grade_2_per_query": round(per_grade[2] / max(len(dataset.queries), 1), 2),
        "avg_relevant_per_query": round(len(dataset.qrels) / max(len(dataset.queries), 1), 2),
        "max_grade_2_per_query": max(per_query.values(), default=0),
        "median_document_chars": int(statistics.median(lengths)) if lengths else 0,
        "max_document_chars": max(lengths, default=0),
    }


def package_version(package: str = PACKAGE) -> str:
    """The installed Debian package's version, or "unknown" without dpkg."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            ["dpkg-query", "-W", "-f=${Version}", package],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> None:
    """Build, write, print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--html", type=Path, default=DEFAULT_HTML, help="the manual's HTML root")
    args = parser.parse_args(argv)
    if not (args.html / "faq").is_dir():
        sys.exit(f"{args.html}/faq not found: apt-get install -y {PACKAGE}")
    dataset = build(args.html)
    write(dataset, args.out, source={"package": PACKAGE, "version": package_version()})
    for key, value in summary(dataset).items():
        sys.stdout.write(f"{key:>24}: {value}\n")
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    sys.stdout.write(f"{'bytes written':>24}: {size} in {args.out}\n")


if __name__ == "__main__":
    main()
