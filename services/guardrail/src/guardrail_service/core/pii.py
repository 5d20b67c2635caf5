"""Pattern-based PII detection and redaction (emails, phones, cards, IBANs, SSNs).

Patterns catch the structured identifiers that leak most often; names and
addresses need an NER model (Presidio with spaCy), which plugs in behind the same
`find_pii` signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PiiMatch:
    """One detected identifier."""

    kind: str
    start: int
    end: int


_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
    "credit_card": re.compile(r"\b(?:\d[ -]?){12,18}\d\b"),
    "iban": re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b"),
    "us_ssn": re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b"),
    "phone": re.compile(r"(?<![\w+])\+?\d{1,3}[ .-]?\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}\b"),
}


def find_pii(text: str) -> list[PiiMatch]:
    """Non-overlapping matches, earlier and more specific kinds first."""
    matches: list[PiiMatch] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS.items():
        for m in pattern.finditer(text):
            if kind == "credit_card" and not _luhn_ok(m.group()):
                continue
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            taken.append((m.start(), m.end()))
            matches.append(PiiMatch(kind, m.start(), m.end()))
    return sorted(matches, key=lambda m: m.start)


def redact(text: str, matches: list[PiiMatch]) -> str:
    """Replace each match by a typed placeholder such as `<EMAIL>`."""
    out: list[str] = []
    cursor = 0
    for m in matches:
        out.append(text[cursor : m.start])
        out.append(f"<{m.kind.upper()}>")
        cursor = m.end
    out.append(text[cursor:])
    return "".join(out)


def _luhn_ok(candidate: str) -> bool:
    digits = [int(c) for c in candidate if c.isdigit()]
    checksum = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        checksum += d
    return checksum % 10 == 0
