"""The `genai` parser: one subcommand per verb, each module adds its own."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from genai_cli import batch, ingest, produce, stack, tail
from genai_cli import eval as evaluate
from genai_cli.errors import CliError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ("build_parser", "main")

_DESCRIPTION = (
    "The GenAI platform from the command line: run the embedded stack (up, down, status, "
    "demo), load files as documents (ingest), send or read raw Kafka records (produce, "
    "tail), run batch jobs of questions (batch submit), and measure retrieval and answer "
    "quality (eval retrieval, eval answers). Kafka "
    "commands talk to --bootstrap, else $KAFKA_BOOTSTRAP_SERVERS, else the embedded stack's broker "
    "(127.0.0.1:19092, or $GENAI_KAFKA_PORT)."
)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, every subcommand with its options."""
    parser = argparse.ArgumentParser(prog="genai", description=_DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    stack.add_parsers(commands)
    ingest.add_parser(commands)
    produce.add_parser(commands)
    tail.add_parser(commands)
    evaluate.add_parser(commands)
    batch.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `genai` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except CliError as exc:
        print(f"genai {args.command}: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        return 1
    except KeyboardInterrupt:
        return 130
