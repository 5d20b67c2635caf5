"""The python-faq builder on small hand-written Sphinx pages (no python3.11-doc needed)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _load(name: str, path: Path):
    # evaluation/ is a script folder, not an installed package: load it by path.
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


build = _load("python_faq_build", ROOT / "evaluation" / "datasets" / "python_faq" / "build.py")
beir = _load("beir", ROOT / "evaluation" / "beir.py")

LIBRARY = """<html><body><div class="body" role="main">
<section id="module-os">
<span id="os-label"></span><h1><code>os</code> — Miscellaneous interfaces<a class="headerlink" href="#module-os">¶</a></h1>
<p>This module provides a <em>portable</em> way.</p>
<section id="files-and-directories">
<h2>Files and Directories<a class="headerlink" href="#files-and-directories">¶</a></h2>
<p>Functions on files.</p>
<dl class="py function">
<dt class="sig" id="os.getcwd"><span class="pre">os.</span><span class="pre">getcwd</span>()<a class="headerlink" href="#os.getcwd">¶</a></dt>
<dd><p>Return the current directory.</p></dd>
</dl>
<pre>&gt;&gt;&gt; os.getcwd()
'/home'</pre>
<section id="linux-extended-attributes">
<h3>Linux extended attributes<a class="headerlink" href="#linux-extended-attributes">¶</a></h3>
<p>Only on Linux.</p>
</section>
</section>
<section id="process-management">
<h2>Process Management<a class="headerlink" href="#process-management">¶</a></h2>
<p>Functions <span id="index-3"></span>to manage processes.</p>
</section>
</section>
</div></body></html>"""

FAQ = """<html><body><div class="body" role="main">
<section id="library-faq">
<h1>Library FAQ<a class="headerlink" href="#library-faq">¶</a></h1>
<nav class="contents" id="contents"><p><a href="#where">Where am I?</a></p></nav>
<section id="files">
<h2>Files<a class="headerlink" href="#files">¶</a></h2>
<section id="where">
<h3><a class="toc-backref" href="#id1">Where am I?</a><a class="headerlink" href="#where">¶</a></h3>
<p>Call <a class="reference internal" href="../library/os.html#os.getcwd"><code>os.getcwd()</code></a>, see the
<a class="reference internal" href="../library/os.html#module-os">os</a> module, the
<a class="reference internal" href="../library/os.html">os page</a> again, the
<a href="https://example.org/os">web</a>, the <a href="#files">other</a> question and
<a href="design.html#why">another FAQ</a>.</p>
</section>
<section id="processes">
<h3>How do I   manage processes?<a class="headerlink" href="#processes">¶</a></h3>
<p>See <a class="reference internal" href="../library/os.html#index-3">there</a>.</p>
</section>
<section id="unlinked">
<h3>Is this linked?<a class="headerlink" href="#unlinked">¶</a></h3>
<p>No, only <a href="https://example.org">elsewhere</a>.</p>
</section>
</section>
</section>
</div></body></html>"""


def _page():
    return build.parse_content_page("library/os.html", LIBRARY)


def _questions():
    return build.parse_faq_page("faq/library.html", FAQ)


def test_content_page_has_one_document_per_section_with_its_own_text() -> None:
    page = _page()
    assert [s.id for s in page.sections] == [
        "library/os.html#module-os",
        "library/os.html#files-and-directories",
        "library/os.html#linux-extended-attributes",
        "library/os.html#process-management",
    ]
    assert page.title == "os — Miscellaneous interfaces"
    top, files, linux, _ = page.sections
    assert top.text == "os — Miscellaneous interfaces\nThis module provides a portable way."
    assert "¶" not in files.text and "Only on Linux" not in files.text  # subsection left out
    assert "os.getcwd()\nReturn the current directory." in files.text
    assert ">>> os.getcwd()\n'/home'" in files.text  # code kept line by line
    assert linux.path == ("module-os", "files-and-directories", "linux-extended-attributes")


def test_element_ids_map_to_their_innermost_section() -> None:
    owner = _page().owner
    assert owner["os.getcwd"] == "files-and-directories"
    assert owner["os-label"] == "module-os"
    assert owner["index-3"] == "process-management"
    assert owner["linux-extended-attributes"] == "linux-extended-attributes"


def test_faq_questions_are_the_leaf_sections_with_their_answers_and_links() -> None:
    questions = _questions()
    assert [q.id for q in questions] == [
        "faq/library.html#where",
        "faq/library.html#processes",
        "faq/library.html#unlinked",
    ]
    where, processes, _ = questions
    assert where.text == "Where am I?"
    assert processes.text == "How do I manage processes?"
    assert where.answer_text.startswith("Call os.getcwd(), see the os module")
    assert where.faq_page == "faq/library.html"
    # external and same-page links dropped; a FAQ link is kept here and ignored when grading
    assert where.links == (
        ("library/os.html", "os.getcwd"),
        ("library/os.html", "module-os"),
        ("library/os.html", ""),
        ("faq/design.html", "why"),
    )


def test_grades_two_for_linked_sections_and_one_for_the_rest_of_the_page() -> None:
    pages = {"library/os.html": _page()}
    where, processes, unlinked = _questions()
    assert build.grade(where, pages) == {
        "library/os.html#files-and-directories": 2,
        "library/os.html#module-os": 2,  # by its anchor, and as the page link's top section
        "library/os.html#linux-extended-attributes": 1,
        "library/os.html#process-management": 1,
    }
    assert build.grade(processes, pages)["library/os.html#process-management"] == 2
    assert build.grade(unlinked, pages) == {}


def test_grade_one_is_capped_to_the_nearest_sections() -> None:
    pages = {"library/os.html": _page()}
    _, processes, _ = _questions()
    # from process-management: module-os is 1 step away, files-and-directories 2, linux 3
    assert build.grade(processes, pages, cap=2) == {
        "library/os.html#process-management": 2,
        "library/os.html#module-os": 1,
        "library/os.html#files-and-directories": 1,
    }


def test_content_pages_leave_out_faq_indexes_and_navigation() -> None:
    assert build.is_content_page("library/os.html")
    assert build.is_content_page("glossary.html")
    assert build.is_content_page("library/_thread.html")
    assert build.is_content_page("library/__future__.html")
    for path in [
        "faq/library.html",
        "genindex-A.html",
        "search.html",
        "py-modindex.html",
        "contents.html",
        "index.html",
        "_static/x.html",
        "includes/wasm-notavail.html",
    ]:
        assert not build.is_content_page(path), path


def test_build_writes_a_sorted_beir_folder_that_the_loader_reads(tmp_path: Path) -> None:
    html = tmp_path / "html"
    (html / "library").mkdir(parents=True)
    (html / "faq").mkdir()
    (html / "library" / "os.html").write_text(LIBRARY, encoding="utf-8")
    (html / "faq" / "library.html").write_text(FAQ, encoding="utf-8")
    (html / "genindex.html").write_text(LIBRARY, encoding="utf-8")
    fragment = '<div class="body"><div class="admonition note"><p>Included.</p></div></div>'
    (html / "library" / "_fragment.html").write_text(fragment, encoding="utf-8")
    dataset = build.build(html)
    assert dataset.stats["dropped_questions"] == 1  # "Is this linked?"
    out = tmp_path / "out"
    build.write(dataset, out, source={"package": "python3.11-doc", "version": "test"})

    lines = (out / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "query-id\tcorpus-id\tscore"
    assert lines[1:] == sorted(lines[1:])
    corpus = [json.loads(line) for line in (out / "corpus.jsonl").open(encoding="utf-8")]
    assert [d["_id"] for d in corpus] == sorted(d["_id"] for d in corpus)
    assert corpus[0]["metadata"] == {
        "page": "library/os.html",
        "section": "files-and-directories",
        "heading": "Files and Directories",
    }

    loaded = beir.load_beir(out)
    assert len(loaded.corpus) == 4 and set(loaded.queries) == {
        "faq/library.html#processes",
        "faq/library.html#where",
    }
    assert loaded.queries["faq/library.html#where"].metadata["faq_page"] == "faq/library.html"
    assert loaded.relevant("faq/library.html#where", min_grade=2) == {
        "library/os.html#files-and-directories": 2,
        "library/os.html#module-os": 2,
    }
    summary = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["summary"]
    assert summary["queries"] == 2 and summary["qrels_grade_2"] == 3
