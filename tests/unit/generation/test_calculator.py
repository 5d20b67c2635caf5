"""Arithmetic is computed exactly and only arithmetic is routed to the calculator."""

from __future__ import annotations

from fractions import Fraction

import pytest

from generation_service.core import RouteName, choose_route
from generation_service.core.calculator import calculation_in, format_number


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("What is 17% of 2,340?", "397.8"),
        ("12 * (3+4)", "84"),
        ("what is 2 plus 2", "4"),
        ("Calculate 3 x 4", "12"),
        ("10 divided by 4", "2.5"),
        ("2^10", "1024"),
        ("what is 7-10?", "-3"),
        ("0.1 + 0.2", "0.3"),  # exact fractions, not binary floats
        ("1/3", "0.3333333333"),
    ],
)
def test_calculations_are_exact(question: str, value: str) -> None:
    calculation = calculation_in(question)
    assert calculation is not None and format_number(calculation.value) == value


@pytest.mark.parametrize(
    "question",
    [
        "How many vacation days do I get after 5 years?",
        "Is 325 + tax allowed for hotels?",
        "what is 5",
        "__import__('os').system('ls')",
        "2**1000",  # past the bounds: not computed, and nothing hangs
        "9" * 1000 + " + 1",
        "(" * 200 + "1" + ")" * 200,
    ],
)
def test_anything_else_is_not_a_calculation(question: str) -> None:
    assert calculation_in(question) is None


def test_division_by_zero_is_said_not_raised() -> None:
    calculation = calculation_in("1/0")
    assert calculation is not None and calculation.value is None
    assert "divides by zero" in calculation.worded()


def test_the_router_sends_arithmetic_to_the_calculator_and_honours_overrides() -> None:
    assert choose_route("What is 17% of 2,340?").name is RouteName.CALCULATOR
    assert choose_route("What is the hotel cap in London?").name is RouteName.DOCUMENTS
    forced = choose_route("What is 17% of 2,340?", RouteName.DOCUMENTS)
    assert forced.name is RouteName.DOCUMENTS and "caller" in forced.reason
    asked = choose_route("hotel cap?", RouteName.CALCULATOR)
    assert asked.name is RouteName.CALCULATOR and asked.calculation is None
    assert choose_route("2 + 2").calculation.value == Fraction(4)
