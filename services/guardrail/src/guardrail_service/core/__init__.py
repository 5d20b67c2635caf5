"""Pure guardrail checks: no I/O."""

from __future__ import annotations

from guardrail_service.core.grounding import groundedness
from guardrail_service.core.injection import score_injection
from guardrail_service.core.pii import PiiMatch, find_pii, redact
from guardrail_service.core.policy import (
    Decision,
    Finding,
    GuardrailPolicy,
    Verdict,
    check_input,
    check_output,
)

__all__ = (
    "Decision",
    "Finding",
    "GuardrailPolicy",
    "PiiMatch",
    "Verdict",
    "check_input",
    "check_output",
    "find_pii",
    "groundedness",
    "redact",
    "score_injection",
)
