"""`genai batch submit FILE`: send a batch job, follow its results, print its totals."""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from tqdm import tqdm

from contracts import BatchItemAnswered, BatchJobCompleted, BatchJobSubmitted, topics
from genai_cli.errors import CliError
from genai_cli.kafka import (
    assign_at_end,
    check_topics,
    header_dict,
    make_consumer,
    make_producer,
    poll_record,
    resolve_bootstrap,
)

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

__all__ = ("add_parser", "load_job")

_WATCHED = (
    topics.ANSWERS_JOB_RESULTS,
    topics.ANSWERS_JOB_COMPLETED,
    topics.ANSWERS_JOBS_DEAD_LETTER,
)
#: After the completed event, how long results still on their way are waited for.
_RESULTS_GRACE_S = 10.0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `batch submit`."""
    parser = commands.add_parser(
        "batch",
        help="run batch jobs of questions (answers.jobs.v1)",
        description="Batch jobs are answered by generation below live traffic; results go to "
        "answers.results.v1 and the totals to answers.completed.v1 (docs/TOPICS.md).",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    submit = verbs.add_parser(
        "submit",
        help="send a job and wait for it to complete",
        description="Send FILE as one job and follow it with a progress bar until its "
        "completed event; print the totals. FILE is a JSON job (an answers.jobs.v1 payload) or "
        "a text file of questions, one per line (then --tenant is required). A job id that "
        "already completed is not run again: use a new one.",
    )
    submit.add_argument("file", metavar="FILE", type=Path)
    submit.add_argument("--tenant", help="tenant of the job (overrides the file's)")
    submit.add_argument("--job-id", help="id of the job (default: the file's, else a new one)")
    submit.add_argument("--prompt-version", help="prompt version or label of every answer")
    submit.add_argument(
        "--output", "-o", type=Path, help="write each result here, one JSON object per line"
    )
    submit.add_argument(
        "--no-wait", action="store_true", help="send the job and return without following it"
    )
    submit.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds to wait for completion"
    )
    submit.add_argument("--bootstrap", "-b", metavar="HOST:PORT", help="Kafka bootstrap servers")
    submit.set_defaults(handler=run)


def load_job(
    path: Path,
    *,
    tenant: str | None = None,
    job_id: str | None = None,
    prompt_version: str | None = None,
) -> BatchJobSubmitted:
    """The job in `path` (JSON job, or questions one per line), options applied, validated."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    payload: dict[str, Any]
    if path.suffix == ".json":
        try:
            payload = json.loads(text)
        except ValueError as exc:
            raise CliError(f"{path}: not JSON ({exc})") from exc
        if not isinstance(payload, dict):
            raise CliError(f"{path}: expected a JSON object (an answers.jobs.v1 payload)")
    else:
        lines = [line.strip() for line in text.splitlines()]
        payload = {"questions": [{"question": line} for line in lines if line]}
    overrides = {"tenant": tenant, "job_id": job_id, "prompt_version": prompt_version}
    payload.update({k: v for k, v in overrides.items() if v is not None})
    payload.setdefault("job_id", f"job-{uuid.uuid4().hex[:16]}")
    if "tenant" not in payload:
        raise CliError(f"{path}: no tenant: pass --tenant")
    try:
        return BatchJobSubmitted.model_validate(payload, strict=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(job)'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:5]
        )
        raise CliError(f"{path}: not a valid job: {problems}") from exc


def run(args: argparse.Namespace) -> int:
    """Send the job; follow it unless --no-wait. Exit 1 when any item failed."""
    job = load_job(
        args.file, tenant=args.tenant, job_id=args.job_id, prompt_version=args.prompt_version
    )
    bootstrap = resolve_bootstrap(args.bootstrap)
    producer = make_producer(bootstrap)
    if not check_topics(producer, bootstrap, [topics.ANSWERS_JOBS]):
        raise CliError(f"no topic {topics.ANSWERS_JOBS!r} on {bootstrap}: is generation up?")
    consumer = None
    if not args.no_wait:
        consumer = make_consumer(bootstrap, from_beginning=False)
        missing = set(_WATCHED) - check_topics(consumer, bootstrap, _WATCHED)
        if missing:
            raise CliError(f"no topic {sorted(missing)[0]!r} on {bootstrap}: is generation up?")
        # Positioned before the job is sent: every record about it comes after.
        assign_at_end(consumer, _WATCHED)
    try:
        started = time.monotonic()
        _send(producer, job)
        items = len(job.questions) or "every document's"
        print(f"job {job.job_id}: sent ({items} items)", file=sys.stderr)  # noqa: T201
        if consumer is None:
            return 0
        output = args.output.open("w") if args.output else None
        try:
            completed = _follow(consumer, job, output=output, timeout_s=args.timeout)
        finally:
            if output is not None:
                output.close()
    finally:
        if consumer is not None:
            consumer.close()
    print(  # noqa: T201 - CLI output
        f"job {job.job_id}: {completed.items} items, {completed.answered} answered, "
        f"{completed.failed} failed, {completed.cached} cached; tokens "
        f"{completed.prompt_tokens} in, {completed.completion_tokens} out; cost "
        f"${completed.cost_usd:.6f}; {time.monotonic() - started:.1f} s"
    )
    return 1 if completed.failed else 0


def _send(producer: Any, job: BatchJobSubmitted) -> None:
    failure: list[str] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            failure.append(err.str())

    producer.produce(
        topics.ANSWERS_JOBS,
        job.model_dump_json().encode(),
        job.job_id.encode(),
        on_delivery=delivered,
    )
    if producer.flush(60) > 0 or failure:
        raise CliError(f"job not sent: {failure[0] if failure else 'no acknowledgement in 60 s'}")


def _follow(
    consumer: Any, job: BatchJobSubmitted, *, output: TextIO | None, timeout_s: float
) -> BatchJobCompleted:
    """Read results until the completed event and every result it counts are in."""
    prefix = f"{job.job_id}/".encode()
    seen: set[str] = set()
    completed: BatchJobCompleted | None = None
    completed_at = 0.0
    deadline = time.monotonic() + timeout_s
    total = len(job.questions) or None
    with tqdm(total=total, desc=job.job_id, unit="item", file=sys.stderr, disable=None) as bar:
        while completed is None or (
            len(seen) < completed.items and time.monotonic() - completed_at < _RESULTS_GRACE_S
        ):
            if time.monotonic() > deadline:
                raise CliError(
                    f"job {job.job_id}: not completed within {timeout_s:g} s "
                    f"({len(seen)} results so far)"
                )
            record = poll_record(consumer)
            if record is None:
                continue
            key = record.key() or b""
            if record.topic() == topics.ANSWERS_JOBS_DEAD_LETTER:
                headers = header_dict(record)
                if headers.get("x-original-key") == job.job_id:
                    raise CliError(
                        f"job {job.job_id} refused ({headers.get('x-error-type')}): "
                        f"{headers.get('x-error-reason')}"
                    )
            elif record.topic() == topics.ANSWERS_JOB_COMPLETED and key == job.job_id.encode():
                completed = BatchJobCompleted.model_validate_json(record.value())
                completed_at = time.monotonic()
                bar.total = completed.items
                bar.refresh()
            elif record.topic() == topics.ANSWERS_JOB_RESULTS and key.startswith(prefix):
                result = BatchItemAnswered.model_validate_json(record.value())
                if result.item_id in seen:
                    continue  # a re-produced result (crash window): the same item
                seen.add(result.item_id)
                bar.update(1)
                if output is not None:
                    output.write(record.value().decode() + "\n")
    return completed
