"""The hostile-input mix at the issue's scale, on a fresh embedded stack.

Not a test: the suite in `make test` (tests/integration/test_hostile_suite.py) runs a
smaller mix of the same generators. This one prints the figures for the issue note and
writes them to loadtests/results/hostile_run.md.

    .venv/bin/python loadtests/hostile_run.py [--hostile 2000] [--good 200] [--requests 3000]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
from pathlib import Path

from platform_stack import SERVICES, Stack, StackConfig
from platform_stack.hostile import run_mix

RESULTS = Path(__file__).resolve().parent / "results" / "hostile_run.md"


def main() -> None:
    """Run the mix once and print the invariants' figures as markdown."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--hostile", type=int, default=2000, help="hostile Kafka messages")
    parser.add_argument("--good", type=int, default=200, help="good documents")
    parser.add_argument("--requests", type=int, default=3000, help="hostile gRPC requests")
    parser.add_argument("--seed", type=int, default=random.randrange(2**32))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        config = StackConfig.from_env().with_free_ports(Path(state))
        config = dataclasses.replace(config, redis_url="redis://127.0.0.1:6379/14")
        with Stack(config) as stack:
            report = run_mix(
                stack,
                seed=args.seed,
                hostile_count=args.hostile,
                good_count=args.good,
                request_count=args.requests,
                timeout_s=600,
            )
            alive = [n for n in (*SERVICES, "kafka", "triton") if stack.process(n).alive()]
    once = sum(1 for count in report.confirmations.values() if count == 1)
    lines = [
        f"Hostile-input mix, seed {args.seed}, in {report.seconds:.0f} s "
        f"(`.venv/bin/python loadtests/hostile_run.py --hostile {args.hostile} "
        f"--good {args.good} --requests {args.requests} --seed {args.seed}`)",
        "",
        "| invariant | figure |",
        "|---|---|",
        f"| Kafka messages sent | {report.kafka_sent} ({report.hostile_sent} hostile, "
        f"{report.good_sent} good) |",
        f"| good documents indexed | {report.good_indexed} of {report.good_sent} "
        f"({once} confirmed exactly once) |",
        f"| hostile messages dead-lettered with a reason | {report.dead_lettered_with_reason} "
        f"of {report.hostile_sent} |",
        f"| dead letters by type | {dict(sorted(report.dead_letter_types.items()))} |",
        f"| gRPC requests sent | {report.requests_sent} |",
        f"| statuses by code | {dict(sorted(report.statuses.items()))} |",
        f"| UNKNOWN, INTERNAL or lost statuses | {len(report.bad_statuses)} |",
        f"| slowest call (deadline 10 s) | {report.slowest_call_s:.2f} s |",
        f"| passages checked for isolation / leaks | {report.passages_checked} / "
        f"{len(report.leaks)} |",
        f"| good documents not found exactly once by their owner | {len(report.not_found_once)} |",
        f"| processes alive at the end | {len(alive)} of {len(SERVICES) + 2} |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    for problem in report.bad_statuses[:10] + report.leaks[:10] + report.missing_dead_letters[:10]:
        print("  ", problem)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
