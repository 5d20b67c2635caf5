"""HTML through the standard library's `html.parser.HTMLParser`, offsets from its positions.

The parser reports where every tag, text and character reference starts (`getpos()`), so a
block maps onto the HTML source character by character; a character reference (`&amp;`)
maps its character to where the reference starts. h1-h6 form the heading path; p, li, pre,
blockquote, tr, dt, dd and the like are blocks, and so is text loose in a div or the body.
Scripts, styles, the head (its title is no heading), navigation, forms and permalink
anchors (Sphinx's `<a class="headerlink">¶</a>`) are dropped. Malformed markup is read as
a browser would, near enough: an end tag closes what it matches, a stray one is ignored,
an unclosed block ends at the next one.
"""

from __future__ import annotations

import dataclasses
import html
import re
from html.parser import HTMLParser

from ingestion_service.core.parsing.blocks import Block, block_from_runs, heading_path, set_heading

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
#: Elements whose content is never document text.
_SKIPPED = frozenset(
    {
        "head",
        "title",
        "script",
        "style",
        "noscript",
        "template",
        "nav",
        "form",
        "button",
        "select",
        "textarea",
        "svg",
        "math",
        "iframe",
        "object",
        "canvas",
        "audio",
        "video",
    }
)
_SKIPPED_ROLES = frozenset({"navigation", "search", "banner", "contentinfo"})
_SKIPPED_CLASSES = frozenset({"headerlink", "visually-hidden", "sr-only"})
#: Phrasing elements: they never split a block.
_INLINE = frozenset(
    {
        "a",
        "abbr",
        "acronym",
        "b",
        "bdi",
        "bdo",
        "big",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "img",
        "ins",
        "kbd",
        "label",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "time",
        "tt",
        "u",
        "var",
        "wbr",
    }
)
#: Inline elements that still separate words.
_SEPARATING = frozenset({"br", "td", "th", "img", "wbr"})
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_NEWLINE = re.compile(r"\n")


class _BlockParser(HTMLParser):
    """Streams blocks out of HTML: text runs gather until an element that ends a block."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0, *(m.end() for m in _NEWLINE.finditer(source))]
        self.blocks: list[Block] = []
        self.heading_blocks: list[Block] = []
        self.headings: list[str] = []
        #: Open elements: (tag, skips its content).
        self.open: list[tuple[str, bool]] = []
        self.skipping = 0
        self.runs: list[tuple[str, int]] = []

    def position(self) -> int:
        """Offset in the source of the event being handled."""
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """An element opens: skipped, inline, or the end of the block before it."""
        if tag in _VOID:
            if not self.skipping and tag in _SEPARATING:
                self.runs.append((" ", self.position()))
            return
        if tag in _HEADINGS and self._open_heading():
            # A heading never holds another: the open one ends here, as in a browser.
            self.handle_endtag(next(n for n, _ in reversed(self.open) if n in _HEADINGS))
        skip = _skips(tag, attrs)
        if not skip and not self.skipping:
            if tag in _SEPARATING:
                self.runs.append((" ", self.position()))
            elif tag not in _INLINE:
                self.flush(self._open_heading())
        self.open.append((tag, skip))
        self.skipping += skip

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """`<br/>` and the like: an element with nothing in it."""
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        """An element closes, and every element left open inside it."""
        if not any(name == tag for name, _ in self.open):
            return  # A stray end tag: browsers ignore it too.
        while self.open:
            name, skip = self.open.pop()
            if skip:
                self.skipping -= 1
            elif not self.skipping and name not in _INLINE and name not in _SEPARATING:
                self.flush(_HEADINGS.get(name) or self._open_heading())
            if name == tag:
                break
        if not self.skipping and tag in _SEPARATING:
            self.runs.append((" ", self.position()))

    def _open_heading(self) -> int:
        """Level of the heading element open around the current text, 0 outside one."""
        return next((_HEADINGS[n] for n, _ in reversed(self.open) if n in _HEADINGS), 0)

    def handle_data(self, data: str) -> None:
        """Text, where it starts."""
        if not self.skipping:
            self.runs.append((data, self.position()))

    def handle_entityref(self, name: str) -> None:
        """`&amp;`: its character, where the reference starts."""
        self._reference(f"&{name};")

    def handle_charref(self, name: str) -> None:
        """`&#64;`: its character, where the reference starts."""
        self._reference(f"&#{name};")

    def _reference(self, reference: str) -> None:
        if self.skipping:
            return
        at = self.position()
        char = html.unescape(reference)
        if char == reference:  # Unknown: kept as written, if it is written so.
            char = self.source[at : at + len(reference)]
        self.runs.append((char, at))

    def flush(self, level: int = 0) -> None:
        """The text gathered so far becomes a block, or a heading of `level`."""
        block = block_from_runs(heading_path(self.headings), self.runs)
        self.runs = []
        if block is None:
            return
        if level:
            set_heading(self.headings, level, block.text)
            self.heading_blocks.append(dataclasses.replace(block, heading=""))
            return
        self.blocks.append(block)


def _skips(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    if tag in _SKIPPED:
        return True
    values = dict(attrs)
    if "hidden" in values or values.get("aria-hidden") == "true":
        return True
    if (values.get("role") or "") in _SKIPPED_ROLES:
        return True
    return bool(_SKIPPED_CLASSES.intersection((values.get("class") or "").split()))


def parse(text: str) -> list[Block]:
    """Blocks of an HTML document; offsets index into the HTML source `text`."""
    parser = _BlockParser(text)
    parser.feed(text)
    parser.close()
    parser.open.clear()
    parser.skipping = 0
    parser.flush()
    # Headings and nothing under them: the headings are the text.
    return parser.blocks or parser.heading_blocks
