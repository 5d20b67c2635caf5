"""`genai batch submit`: how a file becomes a job, before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genai_cli.batch import load_job
from genai_cli.errors import CliError


def test_a_text_file_is_one_question_per_line(tmp_path: Path) -> None:
    path = tmp_path / "questions.txt"
    path.write_text("How many vacation days?\n\n  What is the hotel cap?  \n")
    job = load_job(path, tenant="acme", job_id="j-1")
    assert [q.question for q in job.questions] == [
        "How many vacation days?",
        "What is the hotel cap?",
    ]
    assert (job.tenant, job.job_id, job.item_ids()) == ("acme", "j-1", ["0", "1"])


def test_a_json_job_keeps_its_fields_and_options_override_them(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    path.write_text(
        json.dumps(
            {"job_id": "faq", "tenant": "acme", "questions": [{"id": "a", "question": "q?"}]}
        )
    )
    job = load_job(path, prompt_version="extractive@1")
    assert (job.job_id, job.prompt_version, job.item_ids()) == ("faq", "extractive@1", ["a"])
    assert load_job(path, tenant="other").tenant == "other"
    assert load_job(tmp_path / "job.json").job_id == "faq"


def test_a_job_id_is_made_when_none_is_given(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text("one?\n")
    assert load_job(path, tenant="acme").job_id != load_job(path, tenant="acme").job_id


@pytest.mark.parametrize(
    ("name", "content", "tenant", "message"),
    [
        ("q.txt", "one?\n", None, "no tenant"),
        ("q.txt", "\n\n", "acme", "not a valid job"),
        ("job.json", "{not json", "acme", "not JSON"),
        ("job.json", "[1, 2]", "acme", "expected a JSON object"),
        (
            "job.json",
            '{"tenant": "acme", "questions": [{"question": "q", "x": 1}]}',
            None,
            "not a valid job",
        ),
        ("q.txt", "one?\n", "Bad Tenant", "tenant"),
    ],
)
def test_a_bad_file_is_refused_before_sending(
    tmp_path: Path, name: str, content: str, tenant: str | None, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(CliError, match=message):
        load_job(path, tenant=tenant)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="cannot read"):
        load_job(tmp_path / "nope.txt", tenant="acme")


def test_the_example_jobs_are_valid() -> None:
    root = Path(__file__).resolve().parents[3] / "examples" / "jobs"
    assert load_job(root / "faq.json").item_ids() == [
        "vacation",
        "hotel",
        "meals",
        "returns",
        "mfa",
    ]
    assert load_job(root / "digest.json").summarise_documents
