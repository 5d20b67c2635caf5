"""Arithmetic is computed, never generated: a question that is a calculation gets its exact
result from Python's own expression parser (`ast`), evaluated over exact fractions.

Only numbers, + - * / // % ** and parentheses are evaluated; words a person types for them
("plus", "times", "divided by", "17% of 2,340") are rewritten first. Anything else in the
expression (a name, a call, an attribute) means it is not a calculation, and the question
goes to the documents.
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

#: Results and operands beyond this are refused: 10**10**10 must not take the process down.
_MAX_ABS = Fraction(10) ** 60
_MAX_EXPONENT = 64
_MAX_EXPRESSION_CHARS = 200

_WORDS = [
    (re.compile(r"\bdivided\s+by\b", re.I), "/"),
    (re.compile(r"\bmultiplied\s+by\b|\btimes\b", re.I), "*"),
    (re.compile(r"\bplus\b", re.I), "+"),
    (re.compile(r"\bminus\b", re.I), "-"),
    (re.compile(r"\bto\s+the\s+power\s+of\b", re.I), "**"),
    (re.compile(r"\bmod(?:ulo)?\b", re.I), "%"),
    (re.compile(r"[\u00d7x](?=\s*[\d(])", re.I), "*"),
    (re.compile(r"÷"), "/"),
    (re.compile(r"\^"), "**"),
]
#: "17% of 2,340" and "17 percent of 2340".
_PERCENT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent)\s+of\s+", re.I)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
#: The longest run of what an arithmetic expression is made of.
_EXPRESSION = re.compile(r"[\d.\s+\-*/%()]+")
_LEAD_IN = re.compile(
    r"^\s*(?:what(?:'s| is)|how much is|calculate|compute|evaluate|work out)?\s*", re.I
)

_BINARY: dict[type[ast.operator], Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


class NotArithmetic(ValueError):
    """The question is not (only) a calculation."""


@dataclass(frozen=True)
class Calculation:
    """An evaluated expression, exact (or why it has no value), and how to say it."""

    expression: str
    value: Fraction | None
    problem: str = ""

    def worded(self) -> str:
        """'(17/100)*2340 = 397.8': the expression as evaluated, and its value."""
        if self.value is None:
            return f"{self.expression} has no value: it {self.problem}."
        return f"{self.expression} = {format_number(self.value)}"


def calculation_in(question: str) -> Calculation | None:
    """The calculation a question asks for, or None when it asks something else."""
    text = question.strip().rstrip("?!. ")
    if len(text) > 4 * _MAX_EXPRESSION_CHARS:
        return None
    text = _THOUSANDS.sub("", text)
    text = _PERCENT_OF.sub(r"(\1/100)*", text)
    for pattern, symbol in _WORDS:
        text = pattern.sub(symbol, text)
    text = _LEAD_IN.sub("", text, count=1)
    # The whole remaining question must be the expression: "is 325 + tax allowed" is not.
    if not text or not _EXPRESSION.fullmatch(text) or len(text) > _MAX_EXPRESSION_CHARS:
        return None
    expression = " ".join(text.split())
    try:
        tree = ast.parse(expression, mode="eval")
        if not any(isinstance(node, ast.BinOp) for node in ast.walk(tree)):
            return None  # a lone number is not a calculation
        value = _evaluate(tree.body)
    except (SyntaxError, NotArithmetic):
        return None
    except ZeroDivisionError:
        return Calculation(expression=expression, value=None, problem="divides by zero")
    return Calculation(expression=expression, value=value)


def format_number(value: Fraction) -> str:
    """An integer as it is, else a decimal rounded to 10 places with trailing zeros cut."""
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.10f}".rstrip("0").rstrip(".")
    return text if text not in {"-0", ""} else "0"


def _evaluate(node: ast.expr) -> Fraction:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return _bounded(Fraction(str(node.value)))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _evaluate(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            if right.denominator != 1 or abs(right) > _MAX_EXPONENT:
                raise NotArithmetic("only whole exponents up to 64 are computed")
            return _bounded(left ** int(right))
        if type(node.op) in _BINARY:
            return _bounded(_BINARY[type(node.op)](left, right))
    raise NotArithmetic(f"not arithmetic: {ast.dump(node)[:60]}")


def _bounded(value: Fraction) -> Fraction:
    if abs(value) > _MAX_ABS:
        raise NotArithmetic("a number past 10^60")
    return value
