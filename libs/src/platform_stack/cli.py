"""`genai up | down | status | demo`: the embedded stack from the command line."""

from __future__ import annotations

import argparse
import signal
import sys

from platform_stack.config import StackConfig
from platform_stack.errors import StackError
from platform_stack.stack import Stack, detached_status, stop_detached


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `genai` command."""
    parser = argparse.ArgumentParser(prog="genai", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the stack in the background")
    commands.add_parser("down", help="stop a stack started with `up`")
    commands.add_parser("status", help="show what runs")
    demo = commands.add_parser("demo", help="start, ingest examples/, ask, stop")
    demo.add_argument("--keep", action="store_true", help="leave the stack running afterwards")
    args = parser.parse_args(argv)
    try:
        config = StackConfig.from_env()  # a bad GENAI_KAFKA_STORAGE is named here
        return _COMMANDS[args.command](config, args)
    except StackError as exc:
        print(f"genai: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        return 1


def _up(config: StackConfig, _: argparse.Namespace) -> int:
    if detached_status(config):
        print("genai: a stack is already recorded; run `genai down` first", file=sys.stderr)  # noqa: T201
        return 1
    stack = Stack(config, detached=True)
    # Ctrl-C while starting must not leave half a stack behind.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        stack.start()
    except KeyboardInterrupt:
        stack.stop()
        return 130
    print(  # noqa: T201 - CLI output
        f"genai: stack up; Assistant at {config.address('generation')}, "
        f"Kafka at {config.kafka_bootstrap}, logs in {config.logs_dir}"
    )
    return 0


def _down(config: StackConfig, _: argparse.Namespace) -> int:
    stopped = stop_detached(config)
    print("genai: stopped " + (", ".join(stopped) if stopped else "nothing"))  # noqa: T201
    return 0


def _status(config: StackConfig, _: argparse.Namespace) -> int:
    status = detached_status(config)
    if not status:
        print("genai: no stack recorded")  # noqa: T201
        return 1
    for name, state in status.items():
        print(f"{name:12} {state}")  # noqa: T201
    return 0 if all(s.startswith("running") for s in status.values()) else 1


def _demo(config: StackConfig, args: argparse.Namespace) -> int:
    from platform_stack.demo import run_demo  # imports gRPC stubs only when needed

    return run_demo(config, keep=args.keep)


_COMMANDS = {"up": _up, "down": _down, "status": _status, "demo": _demo}

if __name__ == "__main__":
    sys.exit(main())
