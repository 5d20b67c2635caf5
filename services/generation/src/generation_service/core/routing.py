"""Which path answers a question: no one engine should do everything.

A calculation goes to the calculator, never to a model (models get arithmetic wrong, and a
cited document cannot compute); everything else is answered from the tenant's documents.
The caller can override the choice (`AskRequest.route`), and every answer records the path
and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from generation_service.core.calculator import Calculation, calculation_in


class RouteName(StrEnum):
    """The paths an answer can take; `AUTO` lets the policy choose."""

    AUTO = "auto"
    DOCUMENTS = "documents"
    CALCULATOR = "calculator"


@dataclass(frozen=True)
class Route:
    """The chosen path, why, and the calculation when it computes."""

    name: RouteName
    reason: str
    calculation: Calculation | None = None


def choose_route(question: str, requested: RouteName = RouteName.AUTO) -> Route:
    """The path for `question`, honouring a caller's explicit choice."""
    calculation = calculation_in(question)
    if requested is RouteName.DOCUMENTS:
        return Route(RouteName.DOCUMENTS, "requested by the caller")
    if requested is RouteName.CALCULATOR:
        if calculation is None:
            return Route(
                RouteName.CALCULATOR, "requested by the caller; no calculation in the question"
            )
        return Route(RouteName.CALCULATOR, "requested by the caller", calculation)
    if calculation is not None:
        return Route(
            RouteName.CALCULATOR,
            f"the question is arithmetic: {calculation.expression}",
            calculation,
        )
    return Route(RouteName.DOCUMENTS, "a question about the documents")
