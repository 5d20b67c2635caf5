"""Prompt-injection heuristics: phrases that try to override the system's instructions.

A scored rule set, not a classifier: it catches the common direct attacks
cheaply on every question and passage. A trained detector (evaluated on the
labelled corpus) replaces `score_injection` without changing callers.
"""

from __future__ import annotations

import re

_RULES: list[tuple[re.Pattern[str], float]] = [
    (
        re.compile(
            r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|system)\b.{0,20}\b(instructions?|prompts?|rules?|directions?|context)\b",
            re.I | re.S,
        ),
        0.9,
    ),
    (
        re.compile(
            r"\byou are now\b|\bact as (an? )?(unfiltered|jailbroken|dan)\b|\bdo anything now\b",
            re.I,
        ),
        0.8,
    ),
    (
        re.compile(
            r"\b(reveal|print|show|repeat|output)\b.{0,30}"
            r"\b(system prompt|hidden instructions?|your instructions|initial prompt)\b",
            re.I | re.S,
        ),
        0.85,
    ),
    (re.compile(r"\bdeveloper mode\b|\bjailbreak\b", re.I), 0.7),
    (re.compile(r"</?(system|assistant|im_start|im_end)>|\[/?INST\]", re.I), 0.6),
    (
        re.compile(
            r"\bpretend (that )?(you|there) (are|is) no (rules|restrictions|filters)\b", re.I
        ),
        0.8,
    ),
]


def score_injection(text: str) -> tuple[float, list[str]]:
    """Return (score 0..1, matched phrases); the score is the strongest rule matched."""
    score = 0.0
    matched: list[str] = []
    for pattern, weight in _RULES:
        found = pattern.search(text)
        if found:
            score = max(score, weight)
            matched.append(found.group(0)[:80])
    return score, matched
