"""Prompt assembly for model answers, and packing passages into the model's window.

The order is fixed so that an engine's prefix cache works: first what every request shares
(system instructions, then the worked examples as earlier turns), then what changes per request
(the passages numbered [1]..[n], the caller's user context, today's date as text, the question
last). Two requests with the same prompt version share every token up to their passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from generation_service.core.prompts import Prompt
    from generation_service.core.request import UserContext

# A sentence ends at . ! ? (or a newline) followed by space: the only places a passage is cut.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_NO_DATE = "\x00"


@dataclass(frozen=True)
class PackedPassage:
    """A passage that made it into the window: its index in retrieval's order, the text used."""

    index: int
    text: str
    tokens: int


@dataclass(frozen=True)
class Packing:
    """What fits: passages in retrieval's order, and what was dropped or shortened."""

    passages: list[PackedPassage]
    dropped: list[int] = field(default_factory=list)
    shortened: list[int] = field(default_factory=list)


def stable_messages(prompt: Prompt) -> list[dict[str, str]]:
    """System instructions and worked examples: the same for every request of a version."""
    messages = [{"role": "system", "content": prompt.system.strip()}]
    for example in prompt.examples:
        user = prompt.request.format(
            passages=number_passages(example.passages),
            user_context="",
            date=_NO_DATE,
            question=example.question,
        )
        # An example has no date: drop its date line (a fixed one would break the prefix cache
        # as well as mislead).
        user = "\n".join(line for line in user.splitlines() if _NO_DATE not in line)
        messages += [
            {"role": "user", "content": user.strip()},
            {"role": "assistant", "content": example.answer.strip()},
        ]
    return messages


def request_message(
    prompt: Prompt,
    *,
    passages: Sequence[str],
    question: str,
    user_context: UserContext | None,
    today: dt.date,
) -> dict[str, str]:
    """The per-request user turn: passages, user context, the date in words, the question."""
    content = prompt.request.format(
        passages=number_passages(passages),
        user_context=render_user_context(user_context),
        date=date_in_words(today),
        question=question,
    )
    return {"role": "user", "content": content.strip()}


def number_passages(passages: Sequence[str]) -> str:
    """`[1] text` lines, the markers the model is told to cite."""
    return "\n".join(f"[{n}] {' '.join(text.split())}" for n, text in enumerate(passages, 1))


def render_user_context(context: UserContext | None) -> str:
    """The caller's context as lines ending in a newline; empty when there is none."""
    lines: list[str] = []
    if context is None:
        return ""
    if context.current_page:
        lines.append(f"The user is on the page: {context.current_page}")
    if context.locale:
        lines.append(f"Answer in the language of the locale {context.locale}.")
    if context.recent_turns:
        lines.append("Earlier in the conversation:")
        lines += [f"{t.role}: {' '.join(t.text.split())}" for t in context.recent_turns]
    return "".join(f"{line}\n" for line in lines)


def date_in_words(today: dt.date) -> str:
    """E.g. 'Tuesday, 3 March 2026': written out, so no model misreads 03/04."""
    return f"{today:%A}, {today.day} {today:%B %Y}"


def sentences(text: str) -> list[str]:
    """A passage split at sentence ends, whitespace kept with the sentence before it."""
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        parts.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        parts.append(text[start:])
    return [p for p in parts if p.strip()]


def pack(
    counts: Sequence[int],
    scores: Sequence[float],
    *,
    budget: int,
) -> list[int]:
    """Indexes of the passages that fit `budget` tokens, dropping the lowest scores first.

    Returned in retrieval's order. A passage is kept whole or dropped whole here; shortening
    the best one at a sentence end, when even it does not fit alone, is `shorten`.
    """
    kept = set(range(len(counts)))
    total = sum(counts)
    # The weakest first; on equal scores the later one (retrieval ranked it lower).
    for index in sorted(kept, key=lambda i: (scores[i], -i)):
        if total <= budget:
            break
        kept.discard(index)
        total -= counts[index]
    return sorted(kept)


def shorten(sentence_counts: Sequence[int], *, budget: int) -> int:
    """How many leading sentences fit `budget` tokens (0 when not even the first)."""
    used = 0
    for n, count in enumerate(sentence_counts):
        if used + count > budget:
            return n
        used += count
    return len(sentence_counts)
