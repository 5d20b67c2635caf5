"""Read a dataset in the BEIR layout: corpus.jsonl, queries.jsonl and qrels/<split>.tsv.

    dataset = load_beir(Path(".cache/datasets/python-faq"))
    dataset.relevant(query_id, min_grade=2)  # {corpus id: grade}

corpus.jsonl has one `{"_id", "title", "text", "metadata"?}` object a line, queries.jsonl one
`{"_id", "text", "metadata"?}`, and the qrels file a `query-id corpus-id score` header line, then
one tab-separated row per judgement (graded: any integer, 0 meaning judged not relevant).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BeirDataset", "BeirDocument", "BeirError", "BeirQuery", "load_beir"]


class BeirError(ValueError):
    """A BEIR folder that is missing a file or holds a malformed line."""


@dataclass(frozen=True)
class BeirDocument:
    """One line of corpus.jsonl."""

    id: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BeirQuery:
    """One line of queries.jsonl."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BeirDataset:
    """Corpus and queries by id, and qrels as query id -> {corpus id: grade}."""

    corpus: dict[str, BeirDocument]
    queries: dict[str, BeirQuery]
    qrels: dict[str, dict[str, int]]

    def relevant(self, query_id: str, *, min_grade: int = 1) -> dict[str, int]:
        """The documents judged at least `min_grade` for a query."""
        return {d: g for d, g in self.qrels.get(query_id, {}).items() if g >= min_grade}

    def judged_queries(self) -> list[BeirQuery]:
        """Queries with at least one relevant document, in id order."""
        return [self.queries[q] for q in sorted(self.qrels) if self.relevant(q)]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise BeirError(f"{path} not found")
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row["_id"], str):
                    raise TypeError("not an object with a string _id")
            except (ValueError, KeyError, TypeError) as error:
                raise BeirError(f"{path}:{number}: {error}") from error
            rows.append(row)
    return rows


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    if not path.is_file():
        raise BeirError(f"{path} not found")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as lines:
        rows = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
        for number, row in enumerate(rows, start=1):
            if not row or (number == 1 and row[0] == "query-id"):
                continue
            try:
                query, document, score = row
                qrels.setdefault(query, {})[document] = int(score)
            except ValueError as error:
                raise BeirError(f"{path}:{number}: {error}") from error
    return qrels


def load_beir(folder: Path, *, split: str = "test") -> BeirDataset:
    """Load a BEIR folder; qrels naming unknown queries or documents are an error."""
    corpus = {
        row["_id"]: BeirDocument(
            id=row["_id"],
            title=row.get("title") or "",
            text=row.get("text") or "",
            metadata=row.get("metadata") or {},
        )
        for row in _jsonl(folder / "corpus.jsonl")
    }
    queries = {
        row["_id"]: BeirQuery(
            id=row["_id"], text=row.get("text") or "", metadata=row.get("metadata") or {}
        )
        for row in _jsonl(folder / "queries.jsonl")
    }
    qrels = _qrels(folder / "qrels" / f"{split}.tsv")
    unknown_queries = set(qrels) - set(queries)
    unknown_documents = {d for judged in qrels.values() for d in judged} - set(corpus)
    if unknown_queries or unknown_documents:
        raise BeirError(
            f"qrels name {len(unknown_queries)} unknown queries "
            f"(e.g. {sorted(unknown_queries)[:1]}) and {len(unknown_documents)} unknown "
            f"documents (e.g. {sorted(unknown_documents)[:1]})"
        )
    return BeirDataset(corpus=corpus, queries=queries, qrels=qrels)
