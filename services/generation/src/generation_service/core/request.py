"""Validated Ask and SubmitFeedback requests (Search is validated by retrieval)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from google.protobuf.json_format import ParseDict
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from contracts.events import METADATA_KEY_PATTERN, TENANT_PATTERN
from contracts.rpc import common_pb2, retrieval_pb2
from generation_service.core.routing import RouteName
from generation_service.core.tiers import Budget

MAX_QUESTION_CHARS = 4000
MAX_TOP_K = 20

#: Answer ids are UUIDs; feedback accepts this shape, so nothing else can be found.
ANSWER_ID_PATTERN = r"^[A-Za-z0-9-]{1,128}$"

Group = Annotated[str, StringConstraints(min_length=1, max_length=128)]
FilterKey = Annotated[str, StringConstraints(pattern=METADATA_KEY_PATTERN)]


class Turn(BaseModel):
    """One earlier turn of the conversation."""

    model_config = ConfigDict(frozen=True)

    role: Literal["user", "assistant"]
    text: Annotated[str, StringConstraints(max_length=2000)]


class UserContext(BaseModel):
    """Where the user is and what was said before, as the caller reports it."""

    model_config = ConfigDict(frozen=True)

    current_page: Annotated[str, StringConstraints(max_length=500)] = ""
    recent_turns: tuple[Turn, ...] = Field((), max_length=10)
    locale: Annotated[str, StringConstraints(pattern=r"^([A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*)?$")] = (
        ""
    )


class AskInput(BaseModel):
    """A question after validation; `question` is trimmed."""

    model_config = ConfigDict(frozen=True)

    tenant: Annotated[str, StringConstraints(pattern=TENANT_PATTERN)]
    user_id: Annotated[str, StringConstraints(max_length=256)] = ""
    groups: list[Group] = Field(default_factory=list, max_length=256)
    question: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUESTION_CHARS),
    ]
    top_k: int = Field(ge=1, le=MAX_TOP_K)
    filters: dict[FilterKey, str] = Field(default_factory=dict, max_length=32)
    #: genai.v1.MetadataFilter messages as dicts (proto field names); retrieval validates
    #: them, and the answer cache key includes them.
    typed_filters: tuple[dict[str, Any], ...] = Field((), max_length=32)
    bypass_cache: bool = False
    #: `name@version` or a label (`production`, `canary`) the caller pinned; empty lets the
    #: routing policy choose (core/tiers.py).
    prompt_version: Annotated[str, StringConstraints(pattern=r"^([a-z0-9_-]+(@[0-9]+)?)?$")] = ""
    #: AskRequest.budget's limits; None where unset.
    max_cost_usd: float | None = Field(None, ge=0.0, allow_inf_nan=False)
    max_latency_ms: int | None = Field(None, ge=1)
    user_context: UserContext | None = None
    route: RouteName = RouteName.AUTO
    #: retrieval's FusionMethod, passed through; 0 (unspecified) lets retrieval choose.
    fusion: int = 0
    #: Dense weight of a fused method, passed through; None lets retrieval choose.
    dense_weight: float | None = Field(None, ge=0.0, le=1.0, allow_inf_nan=False)
    #: retrieval's RerankMode, passed through; 0 (unspecified) is retrieval's default.
    rerank: int = 0

    def budget(self) -> Budget:
        """The caller's limits for the routing policy."""
        return Budget(max_cost_usd=self.max_cost_usd, max_latency_ms=self.max_latency_ms)

    def metadata_filters(self) -> list[common_pb2.MetadataFilter]:
        """The typed filters as the messages retrieval takes."""
        return [ParseDict(f, common_pb2.MetadataFilter()) for f in self.typed_filters]

    @field_validator("fusion")
    @classmethod
    def _known_fusion(cls, value: int) -> int:
        if value not in retrieval_pb2.FusionMethod.values():
            known = ", ".join(retrieval_pb2.FusionMethod.keys())
            raise ValueError(f"unknown method {value}; known: {known}")
        return value

    @field_validator("rerank")
    @classmethod
    def _known_rerank(cls, value: int) -> int:
        if value not in retrieval_pb2.RerankMode.values():
            known = ", ".join(retrieval_pb2.RerankMode.keys())
            raise ValueError(f"unknown mode {value}; known: {known}")
        return value


class FeedbackTarget(BaseModel):
    """Who gives feedback on which answer, validated before the answer is looked up."""

    model_config = ConfigDict(frozen=True)

    tenant: Annotated[str, StringConstraints(pattern=TENANT_PATTERN)]
    user_id: Annotated[str, StringConstraints(max_length=256)] = ""
    answer_id: Annotated[str, StringConstraints(pattern=ANSWER_ID_PATTERN)]


class PassageTarget(BaseModel):
    """Whose passage is asked for; retrieval checks the tenant and groups against the chunk."""

    model_config = ConfigDict(frozen=True)

    tenant: Annotated[str, StringConstraints(pattern=TENANT_PATTERN)]
    chunk_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
