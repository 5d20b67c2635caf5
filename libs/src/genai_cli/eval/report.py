"""The results of `genai eval retrieval`: a console table, a markdown fragment, a PNG chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genai_cli.errors import CliError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = ("POOLING", "console_table", "markdown_fragment", "write_chart")

POOLING = (
    "Each query asks Assistant.Search for the top 100 passages; passages are pooled to their "
    "document by max score (a document ranks at its best passage), and the metrics are taken "
    "over that document ranking. nDCG@10 uses the grade as the gain (trec_eval, as BEIR); "
    "recall and MRR count every document of grade >= 1 as relevant."
)
_COLUMNS = ("nDCG@10", "Recall@10", "Recall@100", "MRR@10", "p50 ms", "p95 ms")


def _versus(baseline: str) -> tuple[str, str]:
    return f"ΔnDCG@10 vs {baseline} [95% CI]", "queries better/worse"


def _difference_cells(name: str, differences: Mapping[str, Any], baseline: str) -> list[str]:
    if name == baseline:
        return ["(baseline)", ""]
    d = differences[name]
    return [f"{d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}]", f"{d.wins}/{d.losses}"]


def _cells(summary: Any) -> list[str]:
    return [
        f"{summary.ndcg_at_10:.3f}",
        f"{summary.recall_at_10:.3f}",
        f"{summary.recall_at_100:.3f}",
        f"{summary.mrr_at_10:.3f}",
        f"{summary.p50_ms:.1f}",
        f"{summary.p95_ms:.1f}",
    ]


def console_table(
    summaries: Sequence[Any], differences: Mapping[str, Any] | None = None, baseline: str = ""
) -> str:
    """Aligned plain-text table, one row per configuration."""
    extra = list(_versus(baseline)) if differences else []
    rows = [["configuration", *_COLUMNS, *extra]] + [
        [
            s.name,
            *_cells(s),
            *(_difference_cells(s.name, differences, baseline) if differences else []),
        ]
        for s in summaries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def markdown_fragment(
    summaries: Sequence[Any],
    *,
    heading: str,
    facts: Sequence[str],
    command: str,
    differences: Mapping[str, Any] | None = None,
    baseline: str = "",
) -> str:
    """A section for EVALUATION.md: what was measured, the table, and how to rerun it."""
    best = max(summaries, key=lambda s: s.ndcg_at_10)
    columns = [*_COLUMNS, *(_versus(baseline) if differences else ())]

    def row(s: Any) -> str:
        cells = [
            *_cells(s),
            *(_difference_cells(s.name, differences, baseline) if differences else []),
        ]
        return f"| {'**' + s.name + '**' if s is best else s.name} | " + " | ".join(cells) + " |"

    lines = [
        f"#### {heading}",
        "",
        *facts,
        "",
        f"| configuration ({summaries[0].queries} queries) | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
        *(row(s) for s in summaries),
        "",
        POOLING,
        *(
            [
                "",
                f"ΔnDCG@10: mean per-query difference from {baseline}, with a 95% paired "
                "bootstrap interval over the queries (10,000 resamples, seed 0); an interval "
                "that holds 0 is no evidence of a difference. Better/worse: queries whose "
                f"nDCG@10 is higher/lower than {baseline}'s.",
            ]
            if differences
            else []
        ),
        "",
        "```",
        command,
        "```",
        "",
    ]
    return "\n".join(lines)


def write_chart(summaries: Sequence[Any], path: Path, *, title: str) -> None:
    """Grouped bars of the four quality metrics per configuration, and the latencies."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")  # files only: no display on servers and CI
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise CliError("--chart needs matplotlib (it is in requirements.lock)") from error
    metrics = (
        ("nDCG@10", "ndcg_at_10"),
        ("Recall@10", "recall_at_10"),
        ("Recall@100", "recall_at_100"),
        ("MRR@10", "mrr_at_10"),
    )
    names = [s.name for s in summaries]
    figure, (quality, latency) = plt.subplots(
        1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 1.4]}
    )
    width = 0.8 / len(summaries)
    for i, summary in enumerate(summaries):
        positions = [m + (i - (len(summaries) - 1) / 2) * width for m in range(len(metrics))]
        values = [getattr(summary, attr) for _, attr in metrics]
        bars = quality.bar(positions, values, width, label=summary.name)
        quality.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    quality.set_xticks(range(len(metrics)), [label for label, _ in metrics])
    quality.set_ylim(0, 1.05)
    quality.set_ylabel("mean over queries")
    quality.legend(fontsize=8, ncols=min(len(summaries), 4), loc="upper left")
    quality.set_title(title, fontsize=10)
    rows = range(len(summaries))
    latency.barh([r + 0.2 for r in rows], [s.p95_ms for s in summaries], 0.4, label="p95")
    latency.barh([r - 0.2 for r in rows], [s.p50_ms for s in summaries], 0.4, label="p50")
    latency.set_yticks(list(rows), names)
    latency.invert_yaxis()
    latency.set_xlabel("Search latency, ms")
    latency.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
