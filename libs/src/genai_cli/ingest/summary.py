"""What an ingest did, counted and said in a few lines."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from contracts import IndexStatus

if TYPE_CHECKING:
    from contracts import DocumentIndexed
    from genai_cli.ingest.files import Rejection

__all__ = ("IngestReport", "format_report")

#: Examples shown per rejection type; the rest are counted.
EXAMPLES_PER_TYPE = 3


@dataclass
class IngestReport:
    """Everything `genai ingest` learnt, keyed by document id."""

    topic: str
    sent: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    confirmed: dict[str, DocumentIndexed] = field(default_factory=dict)
    #: Sent, and neither confirmed nor dead-lettered within the timeout: id -> name.
    unconfirmed: dict[str, str] = field(default_factory=dict)
    waited: bool = True
    timeout_s: float = 0.0
    elapsed_s: float = 0.0

    def count(self, status: IndexStatus) -> int:
        """Confirmations with this status."""
        return sum(1 for e in self.confirmed.values() if e.status is status)

    @property
    def unchanged(self) -> int:
        """Indexed documents whose every chunk was reused: nothing re-embedded."""
        indexed = (e for e in self.confirmed.values() if e.status is IndexStatus.INDEXED)
        return sum(1 for e in indexed if e.chunk_count and e.reused_chunks == e.chunk_count)

    @property
    def chunks(self) -> int:
        """Chunks now searchable for the confirmed documents."""
        return sum(e.chunk_count for e in self.confirmed.values())

    @property
    def reused_chunks(self) -> int:
        """Of `chunks`, those whose vectors were reused."""
        return sum(e.reused_chunks for e in self.confirmed.values())

    @property
    def exit_code(self) -> int:
        """0 only when nothing was rejected and everything sent was confirmed (when waiting)."""
        return 1 if self.rejected or self.unconfirmed else 0


def format_report(report: IngestReport) -> str:
    """The summary printed at the end of `genai ingest`."""
    here = sum(1 for r in report.rejected if r.where == "here")
    lines = [f"sent        {report.sent} to {report.topic}"]
    if report.waited:
        indexed = report.count(IndexStatus.INDEXED)
        lines.append(f"indexed     {indexed} ({report.unchanged} unchanged: every chunk reused)")
        for status, meaning in (
            (IndexStatus.STALE_IGNORED, "a newer version was already indexed"),
            (IndexStatus.DELETED, "deleted"),
        ):
            if report.count(status):
                lines.append(f"{status.value:11} {report.count(status)} ({meaning})")
        lines.append(
            f"chunks      {report.chunks}: {report.chunks - report.reused_chunks} re-embedded, "
            f"{report.reused_chunks} reused"
        )
    lines.append(
        f"rejected    {len(report.rejected)} ({here} refused here, "
        f"{len(report.rejected) - here} dead-lettered)"
    )
    lines += _rejections(report.rejected)
    if report.waited:
        lines.append(f"unconfirmed {len(report.unconfirmed)} within {report.timeout_s:g} s")
        lines += [f"  {name}" for name in sorted(report.unconfirmed.values())[:EXAMPLES_PER_TYPE]]
        if len(report.unconfirmed) > EXAMPLES_PER_TYPE:
            lines.append(f"  ... and {len(report.unconfirmed) - EXAMPLES_PER_TYPE} more")
    seconds = max(report.elapsed_s, 1e-6)
    done = len(report.confirmed) if report.waited else report.sent
    rate = f"rate        {done / seconds:.1f} documents/s"
    if report.waited:
        rate += f", {report.chunks / seconds:.1f} chunks/s"
    lines.append(f"{rate} ({report.elapsed_s:.1f} s)")
    return "\n".join(lines)


def _rejections(rejected: list[Rejection]) -> list[str]:
    by_type: dict[tuple[str, str], list[Rejection]] = defaultdict(list)
    for rejection in rejected:
        by_type[(rejection.error_type, rejection.where)].append(rejection)
    lines = []
    for (error_type, where), group in sorted(by_type.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        origin = "refused here" if where == "here" else f"dead-lettered on {where}"
        lines.append(f"  {error_type} ({len(group)}, {origin})")
        lines += [f"    {r.name}: {r.reason}" for r in group[:EXAMPLES_PER_TYPE]]
        if len(group) > EXAMPLES_PER_TYPE:
            lines.append(f"    ... and {len(group) - EXAMPLES_PER_TYPE} more")
    return lines
