"""`genai up | down | status | demo`: delegated to the stack launcher, `platform_stack.cli`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from platform_stack import cli as stack_cli

if TYPE_CHECKING:
    import argparse

__all__ = ("add_parsers",)


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the stack's subcommands; each runs `platform_stack.cli` with the same words."""
    commands.add_parser("up", help="start the embedded stack in the background").set_defaults(
        handler=_delegate
    )
    commands.add_parser("down", help="stop a stack started with `up`").set_defaults(
        handler=_delegate
    )
    commands.add_parser("status", help="show what runs").set_defaults(handler=_delegate)
    demo = commands.add_parser("demo", help="start, ingest examples/, ask, stop")
    demo.add_argument("--keep", action="store_true", help="leave the stack running afterwards")
    demo.set_defaults(handler=_delegate)


def _delegate(args: argparse.Namespace) -> int:
    # One launcher, reachable both ways: `genai up` and `python -m platform_stack.cli up`.
    argv = [args.command] + (["--keep"] if getattr(args, "keep", False) else [])
    return stack_cli.main(argv)
