"""`genai produce TOPIC FILE...`: each file is one record, as `kcat -P -t TOPIC -k KEY file`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from genai_cli.errors import CliError
from genai_cli.kafka import check_topics, make_producer, resolve_bootstrap

if TYPE_CHECKING:
    import argparse

    from confluent_kafka import KafkaError, Message

__all__ = ("add_parser", "default_key", "parse_headers")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `produce`."""
    parser = commands.add_parser(
        "produce",
        help="send files to a topic, one record each",
        description="Send each FILE, unchanged, as one record to TOPIC, and print the "
        "partition and offset the broker gave it. The key is --key, else the `id` of a JSON "
        "object in the file (a documents.submitted.v1 payload), else the file's name.",
    )
    parser.add_argument("topic", metavar="TOPIC")
    parser.add_argument("files", metavar="FILE", nargs="+", type=Path)
    parser.add_argument("--key", "-k", help="key of every record")
    parser.add_argument(
        "--header",
        "-H",
        action="append",
        default=[],
        metavar="K=V",
        help="a header of every record (repeatable), e.g. x-trace-id=abc",
    )
    parser.add_argument("--bootstrap", "-b", metavar="HOST:PORT", help="Kafka bootstrap servers")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Send the files; exit 1 when any was not acknowledged."""
    headers = parse_headers(args.header)
    bootstrap = resolve_bootstrap(args.bootstrap)
    producer = make_producer(bootstrap)
    if not check_topics(producer, bootstrap, [args.topic]):
        raise CliError(f"no topic {args.topic!r} on {bootstrap} (topics are never auto-created)")
    failures = 0

    def report(name: str, key: str) -> object:
        def delivered(err: KafkaError | None, msg: Message) -> None:
            nonlocal failures
            if err is not None:
                failures += 1
                print(f"{name}: not sent: {err.str()}", file=sys.stderr)  # noqa: T201
                return
            print(  # noqa: T201 - CLI output
                f"{name}: {msg.topic()} [{msg.partition()}] @ {msg.offset()} key={key}"
            )

        return delivered

    for path in args.files:
        try:
            value = path.read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror}") from exc
        key = args.key if args.key is not None else default_key(path, value)
        producer.produce(
            args.topic, value, key.encode(), headers=headers, on_delivery=report(str(path), key)
        )
        producer.poll(0)
    if producer.flush(60) > 0:
        raise CliError("some records were not acknowledged within 60 s")
    return 1 if failures else 0


def default_key(path: Path, value: bytes) -> str:
    """The `id` of a JSON object in the file, else the file's name."""
    try:
        document = json.loads(value)
    except ValueError:  # not JSON, or not UTF-8
        return path.name
    if isinstance(document, dict) and isinstance(document.get("id"), str) and document["id"]:
        return str(document["id"])
    return path.name


def parse_headers(pairs: list[str]) -> list[tuple[str, bytes]]:
    """`k=v` strings to Kafka headers; the value may contain `=` and may be empty."""
    headers = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CliError(f"--header {pair!r}: expected NAME=VALUE")
        headers.append((name, value.encode()))
    return headers
