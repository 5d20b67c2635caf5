"""Citation markers in generated text: keep those that name a passage in the context.

The model sees passages numbered [1]..[n] and cites them as `[k]` (or `[1, 2]`, `[1][2]`). A
marker naming a passage that was in its context becomes a citation; any other marker ([0], [7]
of five, `[source]`) is removed from the text and reported, never shown as a citation.
Valid markers keep the number the model wrote (the passage's number in the prompt), so text
already streamed stays right; each becomes a Citation whose `marker` is that number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# [3], [1, 2], [1,2,3]; also anything else bracketed that looks like a reference ([12a], [doc]).
_MARKER = re.compile(r"\s?\[(\s*[^\[\]\n]{1,20}?\s*)\]")
_NUMBERS = re.compile(r"^\d+(\s*,\s*\d+)*$")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")


@dataclass(frozen=True)
class CheckedCitations:
    """Text with valid markers renumbered, the context indexes cited, and what was removed."""

    text: str
    #: Indexes into the context passages, in order of first citation: marker [k] is index k-1.
    cited: list[int]
    #: Markers removed because they named no passage of the context, as written.
    invalid: list[str]


def check_markers(text: str, *, context_size: int) -> CheckedCitations:
    """Map `[k]` markers to context passages 1..context_size; remove and report the rest."""
    cited: list[int] = []
    invalid: list[str] = []

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        if not _NUMBERS.match(inner):
            invalid.append(match.group(0).strip())
            return ""
        numbers = [int(n) for n in inner.split(",")]
        good = [n for n in numbers if 1 <= n <= context_size]
        invalid.extend(f"[{n}]" for n in numbers if not 1 <= n <= context_size)
        if not good:
            return ""
        for n in good:
            if n - 1 not in cited:
                cited.append(n - 1)
        return " " + "".join(f"[{n}]" for n in dict.fromkeys(good))

    checked = _MARKER.sub(replace, text)
    checked = _SPACE_BEFORE_PUNCT.sub(r"\1", checked)
    return CheckedCitations(" ".join(checked.split()), cited, invalid)


class MarkerFilter:
    """Streams text with invalid markers removed: text after a `[` waits until it closes.

    Feed tokens in order; each call returns what may be shown now. The filtered stream equals
    `check_markers` on the whole text up to whitespace.
    """

    def __init__(self, *, context_size: int) -> None:
        self._context_size = context_size
        self._pending = ""

    def feed(self, token: str) -> str:
        """The part of the text so far that is safe to send."""
        self._pending += token
        start = self._pending.rfind("[")
        if start == -1:
            out, self._pending = self._pending, ""
            return out
        tail = self._pending[start:]
        # The space before a marker waits with it: it goes if the marker goes.
        start = len(self._pending[:start].rstrip())
        if "]" not in tail and len(tail) <= _MAX_MARKER_CHARS and "\n" not in tail:
            out, self._pending = self._pending[:start], self._pending[start:]
            return out  # wait: the marker is not complete yet
        out, self._pending = self._pending, ""
        return self._clean(out)

    def flush(self) -> str:
        """What is left at the end of the stream."""
        out, self._pending = self._pending, ""
        return self._clean(out)

    def _clean(self, text: str) -> str:
        lead = text[: len(text) - len(text.lstrip())]
        checked = check_markers(text, context_size=self._context_size).text
        trail = text[len(text.rstrip()) :]
        # A removed marker takes its leading space along: the next token brings its own.
        return f"{lead}{checked}{trail}" if checked else ""


_MAX_MARKER_CHARS = 24
