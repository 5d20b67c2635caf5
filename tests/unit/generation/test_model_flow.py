"""The streamed answer's guardrail checks: a decline is not a claim to ground."""

from __future__ import annotations

import pytest

from generation_service.llm import NOT_FOUND
from generation_service.model_flow import _declining


@pytest.mark.parametrize(
    "streamed", ["", "  ", "Not", "Not found in", NOT_FOUND, f" {NOT_FOUND}\n"]
)
def test_the_decline_and_its_beginnings_are_not_checked(streamed: str) -> None:
    assert _declining(streamed)


@pytest.mark.parametrize(
    "streamed",
    [
        "Passwords are rotated every 90 days [3].",
        f"{NOT_FOUND} But the cap is USD 325.",  # a claim after the decline is checked
        "Nothing was found, so I guess 12 days.",
    ],
)
def test_anything_else_is_checked(streamed: str) -> None:
    assert not _declining(streamed)
