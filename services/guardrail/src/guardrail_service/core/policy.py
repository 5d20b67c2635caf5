"""Combines the checks into one verdict for a question or an answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from guardrail_service.core.grounding import groundedness
from guardrail_service.core.injection import score_injection
from guardrail_service.core.pii import find_pii, redact


class Decision(StrEnum):
    """What the caller must do with the text."""

    ALLOW = "allow"
    REDACT = "redact"
    BLOCK = "block"


@dataclass(frozen=True)
class Finding:
    """One reason behind a verdict."""

    category: str
    detail: str
    score: float = 1.0


@dataclass(frozen=True)
class Verdict:
    """The decision, the text to use, and why."""

    decision: Decision
    text: str
    findings: list[Finding] = field(default_factory=list)
    groundedness: float = 1.0


@dataclass(frozen=True)
class GuardrailPolicy:
    """Thresholds and lists; one per deployment for now, per tenant later."""

    injection_threshold: float = 0.7
    min_groundedness: float = 0.5
    denied_topics: tuple[str, ...] = ()


def check_input(text: str, policy: GuardrailPolicy) -> Verdict:
    """Block injections and denied topics; redact PII so it never reaches a model or a log."""
    findings: list[Finding] = []
    score, phrases = score_injection(text)
    if score >= policy.injection_threshold:
        findings.append(Finding("prompt_injection", "; ".join(phrases), score))
    for topic in policy.denied_topics:
        if re.search(rf"\b{re.escape(topic)}\b", text, re.I):
            findings.append(Finding("denied_topic", topic))
    if findings:
        return Verdict(Decision.BLOCK, "", findings)
    return _redacted(text)


def check_output(answer: str, passages: list[str], policy: GuardrailPolicy) -> Verdict:
    """Block answers the passages do not support; redact PII in the rest."""
    grounded = groundedness(answer, passages)
    if grounded < policy.min_groundedness:
        return Verdict(
            Decision.BLOCK,
            "",
            [Finding("ungrounded", f"{grounded:.2f} of sentences supported", 1 - grounded)],
            grounded,
        )
    verdict = _redacted(answer)
    return Verdict(verdict.decision, verdict.text, verdict.findings, grounded)


def _redacted(text: str) -> Verdict:
    matches = find_pii(text)
    if not matches:
        return Verdict(Decision.ALLOW, text)
    findings = [Finding(f"pii.{m.kind}", f"characters {m.start}-{m.end}") for m in matches]
    return Verdict(Decision.REDACT, redact(text, matches), findings)
