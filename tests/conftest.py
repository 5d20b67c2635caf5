"""Options shared by every test directory."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """--stack=embedded starts a fresh stack per session; external uses `genai up`'s."""
    parser.addoption(
        "--stack",
        choices=("embedded", "external"),
        default="embedded",
        help="embedded: start broker, Triton and services on free ports; "
        "external: use the stack at the GENAI_* ports (e.g. from `genai up`)",
    )
