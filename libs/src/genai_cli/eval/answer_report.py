"""The results of `genai eval answers`: a console table and a markdown fragment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ("CHECK_TITLES", "answers_console_table", "answers_markdown")

#: Column titles of the four checks, in the order of answer_checks.CHECKS.
CHECK_TITLES = {
    "cites_relevant": "cites relevant doc",
    "contains_fact": "contains fact",
    "supported": "sentences supported",
    "says_not_found": "says not found",
}
_TAIL = ("overall", "p50 ms", "p95 ms", "cost/answer USD")


def _rate(summary: Any, check: str) -> str:
    passed, applicable = summary.checks.get(check, (0, 0))
    return f"{passed / applicable:.0%} ({passed}/{applicable})" if applicable else "n/a"


def _cells(summary: Any) -> list[str]:
    return [
        *(_rate(summary, check) for check in CHECK_TITLES),
        f"{summary.overall:.0%}",
        f"{summary.p50_ms:,.0f}",
        f"{summary.p95_ms:,.0f}",
        f"{summary.cost_per_answer_usd:.6f}",
    ]


def _header() -> list[str]:
    return ["set", "engine", "route", "answers", *CHECK_TITLES.values(), *_TAIL]


def _row(key: tuple[str, str, str], summary: Any) -> list[str]:
    return [*key, str(summary.answers), *_cells(summary)]


def answers_console_table(summaries: Mapping[tuple[str, str, str], Any]) -> str:
    """Aligned plain-text table, one row per (set, prompt version, route)."""
    rows = [_header()] + [_row(key, s) for key, s in summaries.items()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i < 3 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def answers_markdown(
    summaries: Mapping[tuple[str, str, str], Any],
    *,
    facts: Sequence[str],
    command: str,
    failures: Mapping[tuple[str, str, str], Sequence[str]],
    threshold: float,
) -> str:
    """A section for EVALUATION.md: what was measured, the table, failures, how to rerun."""
    lines = [
        *facts,
        "",
        "| " + " | ".join(_header()) + " |",
        "|---" * len(_header()) + "|",
        *("| " + " | ".join(_row(key, s)) + " |" for key, s in summaries.items()),
        "",
        "A rate is passes over the answers the check applies to (in brackets). "
        "*cites relevant doc*: questions with labelled relevant documents; *contains fact*: "
        "questions with an expected fact (any of a list, normalized substring); *sentences "
        f"supported*: answers from the documents that do not decline, every sentence with >= "
        f"{threshold:.0%} of its content words in the passages it cites; *says not found*: "
        "questions the corpus cannot answer. *overall*: every applicable check passed. "
        "Latency is the client-side Ask round trip (bypass_cache, sequential calls); cost is "
        "Usage.cost_usd.",
        "",
        "Failed questions (first 12 per row; the checks they failed):",
        "",
        *(
            f"- {' / '.join(key)}: " + (", ".join(failed[:12]) or "none")
            for key, failed in failures.items()
        ),
        "",
        "```",
        command,
        "```",
        "",
    ]
    return "\n".join(lines)
