"""Question sets of the answer evaluation: what each question expects of its answer.

- **acme** (the sample corpus, examples/documents): the 40 labelled questions of
  qrels/acme.jsonl with their relevant documents and an `expected` any-of list of facts the
  documents state plainly; answers/acme_unanswerable.jsonl, questions about Acme that the
  corpus does not answer ("not found" expected); answers/acme_arithmetic.jsonl, calculations
  whose result is the expected fact (the routing policy decides who answers them).
- **python-faq** (BEIR data of evaluation/datasets/python_faq): each judged FAQ question with
  its relevant manual sections (grade >= 1) and, as expected facts, the API names its written
  answer mentions (`faq_facts`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ACME_FILES",
    "MAX_FAQ_FACTS",
    "AnswerQuestion",
    "faq_facts",
    "load_acme",
    "load_python_faq",
]

ROOT = Path(__file__).resolve().parents[1]
ACME_FILES = (
    ROOT / "evaluation" / "qrels" / "acme.jsonl",
    ROOT / "evaluation" / "answers" / "acme_unanswerable.jsonl",
    ROOT / "evaluation" / "answers" / "acme_arithmetic.jsonl",
)
MAX_FAQ_FACTS = 5
#: Dotted names (os.path.join), calls (hash()), C API names (PyRun_String), dunders (__init__).
_IDENTIFIER = re.compile(
    r"(?<![\w.])(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(\))?|[A-Za-z_]\w*\(\)|Py[A-Za-z]*_\w+"
    r"|__\w+__)"
)
#: Not API names: hosts, file names, and `x.method` on a one-letter example variable.
_NOT_API = re.compile(
    r"(?:^|\.)(?:www|org|com|net|html?|py|c|txt|out)(?:\.|$)|^[A-Za-z]\.|^_+$", re.IGNORECASE
)


@dataclass(frozen=True)
class AnswerQuestion:
    """One question of a set and what its answer is checked against."""

    id: str
    question: str
    kind: str
    #: Documents whose citation counts as citing a relevant one (empty: none labelled).
    relevant: frozenset[str] = frozenset()
    #: Any of these must be in the answer (empty: no fact labelled).
    facts: tuple[str, ...] = ()
    #: False: the corpus cannot answer it, and the answer must say "not found".
    answerable: bool = True


def load_acme(files: tuple[Path, ...] = ACME_FILES) -> list[AnswerQuestion]:
    """The sample corpus's answerable, unanswerable and arithmetic questions, in file order."""
    questions = []
    for path in files:
        for row in _jsonl(path):
            kind = row.get("kind", "unlabelled")
            questions.append(
                AnswerQuestion(
                    id=row["id"],
                    question=row["question"],
                    kind=kind,
                    relevant=frozenset(row.get("relevant", ())),
                    facts=tuple(row.get("expected", ())),
                    answerable=kind != "unanswerable",
                )
            )
    return questions


def faq_facts(question: str, answer_text: str, *, limit: int = MAX_FAQ_FACTS) -> tuple[str, ...]:
    """API names the written answer mentions and the question does not, first `limit`.

    A FAQ answer is prose written for people, so no phrase of it can be expected verbatim in
    an answer built from the manual; the names of the functions, modules and C API it points
    to can. Answers without such a name get no expected fact.
    """
    asked = question.lower()
    facts: list[str] = []
    for match in _IDENTIFIER.findall(answer_text):
        core = match.removesuffix("()")
        if len(core) < 4 or _NOT_API.search(core) or core.lower() in asked:
            continue
        if core not in facts:
            facts.append(core)
    return tuple(facts[:limit])


def load_python_faq(
    dataset: Any, *, document_id: Callable[[str], str], sample: int | None = None
) -> list[AnswerQuestion]:
    """The judged FAQ questions of a loaded BEIR dataset, in id order; with `sample`, that
    many of them evenly spaced over the id order (ids group by FAQ page: every page is met).

    `document_id` maps a corpus id to the id the platform indexed it under.
    """
    judged = dataset.judged_queries()
    if sample is not None and 0 <= sample < len(judged):
        judged = [judged[i * len(judged) // sample] for i in range(sample)]
    questions = []
    for query in judged:
        relevant = frozenset(document_id(d) for d in dataset.relevant(query.id))
        facts = faq_facts(query.text, query.metadata.get("answer_text", ""))
        questions.append(
            AnswerQuestion(
                id=query.id,
                question=query.text,
                kind="faq",
                relevant=relevant,
                facts=facts,
            )
        )
    return questions


def _jsonl(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
