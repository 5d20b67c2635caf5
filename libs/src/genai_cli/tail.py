"""`genai tail TOPIC`: print records as they arrive, with key and headers, for people
without a Kafka client (a dead letter's x-error-* headers say why it failed)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, TopicPartition

from genai_cli.errors import CliError
from genai_cli.kafka import check_topics, make_consumer, poll_record, resolve_bootstrap

if TYPE_CHECKING:
    import argparse

    from confluent_kafka import Message

__all__ = ("add_parser", "format_record")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `tail`."""
    parser = commands.add_parser(
        "tail",
        help="print a topic's records: key, headers, value",
        description="Print each record of TOPIC: where it is, its key, its headers and its "
        "value (text; JSON as sent). Without --group no consumer group is joined and nothing "
        "is committed; with --group the group's committed offsets are used and advanced.",
    )
    parser.add_argument("topic", metavar="TOPIC")
    parser.add_argument(
        "--from-beginning",
        action="store_true",
        help="start at the oldest record (default: only records produced from now; with "
        "--group, where the group left off, and this only when it has no offset yet)",
    )
    parser.add_argument("--count", "-n", type=int, metavar="N", help="stop after N records")
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="stop when no record has arrived for S seconds (default: run until Ctrl-C)",
    )
    parser.add_argument("--group", "-g", metavar="G", help="consume as consumer group G")
    parser.add_argument(
        "--max-value",
        type=int,
        default=2000,
        metavar="CHARS",
        help="print at most CHARS characters of each value, 0 for all (default 2000)",
    )
    parser.add_argument("--bootstrap", "-b", metavar="HOST:PORT", help="Kafka bootstrap servers")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print records until --count, --timeout or Ctrl-C."""
    bootstrap = resolve_bootstrap(args.bootstrap)
    consumer = make_consumer(bootstrap, group=args.group, from_beginning=args.from_beginning)
    try:
        if not check_topics(consumer, bootstrap, [args.topic]):
            raise CliError(f"no topic {args.topic!r} on {bootstrap}")
        printed = 0
        last = time.monotonic()

        def assigned(*_: object) -> None:
            nonlocal last
            last = time.monotonic()  # the idle clock starts once the group has answered

        if args.group:
            consumer.subscribe([args.topic], on_assign=assigned)
        else:
            start = OFFSET_BEGINNING if args.from_beginning else OFFSET_END
            partitions = consumer.list_topics(args.topic, timeout=10).topics[args.topic].partitions
            consumer.assign([TopicPartition(args.topic, p, start) for p in sorted(partitions)])
        while args.count is None or printed < args.count:
            if args.timeout is not None and time.monotonic() - last > args.timeout:
                break
            message = poll_record(consumer)
            if message is None:
                continue
            print(format_record(message, max_value=args.max_value), flush=True)  # noqa: T201
            printed += 1
            last = time.monotonic()
    finally:
        consumer.close()
    return 0


def format_record(message: Message, *, max_value: int = 2000) -> str:
    """A record as a few lines: where and when, key, each header, value."""
    _, stamp_ms = message.timestamp()
    when = datetime.fromtimestamp(stamp_ms / 1000, UTC).isoformat(timespec="milliseconds")
    key = message.key()
    lines = [
        f"--- {message.topic()} [{message.partition()}] @ {message.offset()}  {when}",
        "key: " + ("(none)" if key is None else key.decode("utf-8", "replace")),
    ]
    for name, value in message.headers() or ():
        # A multi-line header (an exception with its details) stays readable, indented.
        text = (value or b"").decode("utf-8", "replace").replace("\n", "\n    ")
        lines.append(f"header {name}: {text}")
    value = message.value()
    if value is None:
        lines.append("value: (none: a tombstone)")
    else:
        text = value.decode("utf-8", "replace")
        if max_value and len(text) > max_value:
            text = f"{text[:max_value]}... ({len(value)} bytes in all)"
        lines.append(f"value: {text}")
    return "\n".join(lines)
