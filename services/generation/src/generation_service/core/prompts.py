"""Versioned prompts: name@version, labels, engine and model, stable prefix, request part.

Prompts live in YAML files outside the code (`services/generation/prompts/`, or the folder in
GENERATION_PROMPTS_DIR), one version per file, read once at start-up. A label (`production`,
`canary`) points at exactly one version, so moving a label is a file edit and a restart.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

if TYPE_CHECKING:
    from collections.abc import Iterable

#: The label answering requests that pin nothing.
DEFAULT_LABEL = "production"
_PLACEHOLDERS = ("{passages}", "{user_context}", "{date}", "{question}")


class PromptError(ValueError):
    """A prompt file or a set of prompts that cannot be served (stops start-up)."""


class EngineKind(StrEnum):
    """What runs a prompt."""

    EXTRACTIVE = "extractive"
    TRITON = "triton"
    OPENAI = "openai"


class Example(BaseModel):
    """A worked example: passages, a question and the answer wanted (part of the stable prefix)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    passages: list[str] = Field(min_length=1, description="Passages numbered [1]..[n].")
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)


class Prompt(BaseModel):
    """One prompt version as read from its file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]+$")]
    version: int = Field(ge=1)
    labels: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]+$")]] = []
    engine: EngineKind
    model: str = Field(min_length=1, description="Model the engine runs, as it names it.")
    description: str = ""
    max_tokens: int = Field(256, ge=1, le=1024)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    min_relevance: float = Field(
        0.0, description="Passages scoring at or below this are not used as context."
    )
    expected_latency_ms: float = Field(
        0.0,
        ge=0,
        description="A first estimate of one answer's generation time, for budgets (routing); "
        "replaced by the measured mean once this version has answered. 0: unknown.",
    )
    system: str = ""
    examples: list[Example] = []
    request: str = ""

    @property
    def key(self) -> str:
        """`name@version`, the value AskRequest.prompt_version pins."""
        return f"{self.name}@{self.version}"

    @model_validator(mode="after")
    def _model_prompts_complete(self) -> Prompt:
        if self.engine is not EngineKind.EXTRACTIVE:
            if not self.system.strip():
                raise ValueError("a model prompt needs system instructions")
            missing = [p for p in _PLACEHOLDERS if p not in self.request]
            if missing:
                raise ValueError(f"request template lacks {', '.join(missing)}")
        return self


def model_key(prompt: Prompt) -> tuple[EngineKind, str]:
    """The model engine a prompt runs on: Triton's by model name, or the OpenAI-compatible one.

    The OpenAI-compatible endpoint is one per service (its model is GENERATION_OPENAI_MODEL),
    so its prompts share one engine whatever model their files name.
    """
    return (prompt.engine, prompt.model if prompt.engine is EngineKind.TRITON else "")


class PromptRegistry:
    """Prompt versions by `name@version`, and the labels that point at them."""

    def __init__(self, prompts: Iterable[Prompt]) -> None:
        self._prompts: dict[str, Prompt] = {}
        self._labels: dict[str, str] = {}
        for prompt in prompts:
            if prompt.key in self._prompts:
                raise PromptError(f"prompt {prompt.key} defined twice")
            self._prompts[prompt.key] = prompt
            for label in prompt.labels:
                if label in self._labels:
                    raise PromptError(
                        f"label {label!r} on both {self._labels[label]} and {prompt.key}"
                    )
                self._labels[label] = prompt.key

    def __iter__(self):
        """Prompts in `name@version` order."""
        return iter(self._prompts[k] for k in sorted(self._prompts))

    def __len__(self) -> int:
        return len(self._prompts)

    def labels_of(self, key: str) -> list[str]:
        """The labels pointing at a version."""
        return sorted(label for label, target in self._labels.items() if target == key)

    def resolve(self, requested: str) -> Prompt | None:
        """The prompt a request pins: `name@version`, or a label; None when neither exists."""
        key = self._labels.get(requested, requested)
        return self._prompts.get(key)

    def known(self) -> str:
        """What can be pinned, for error messages."""
        versions = ", ".join(sorted(self._prompts))
        labels = ", ".join(f"{label}={key}" for label, key in sorted(self._labels.items()))
        return f"versions: {versions}; labels: {labels or 'none'}"
