"""Pure generation logic: requests, prompts, assembly, citations, engines, cache keys, cost."""

from __future__ import annotations

from generation_service.core.cache_key import answer_cache_key
from generation_service.core.engine import (
    NO_ANSWER,
    AnswerEngine,
    EngineAnswer,
    ExtractiveEngine,
    SourcePassage,
)
from generation_service.core.prompts import (
    DEFAULT_LABEL,
    EngineKind,
    Prompt,
    PromptError,
    PromptRegistry,
    model_key,
)
from generation_service.core.request import (
    MAX_TOP_K,
    AskInput,
    FeedbackTarget,
    PassageTarget,
    Turn,
    UserContext,
)
from generation_service.core.routing import Route, RouteName, choose_route
from generation_service.core.tiers import (
    AnswerStats,
    Budget,
    QuestionKind,
    TierPolicy,
    choose_prompt,
    question_kind,
)
from generation_service.core.usage import ModelPrice, cost_usd

__all__ = (
    "DEFAULT_LABEL",
    "MAX_TOP_K",
    "NO_ANSWER",
    "AnswerEngine",
    "AnswerStats",
    "AskInput",
    "Budget",
    "EngineAnswer",
    "EngineKind",
    "ExtractiveEngine",
    "FeedbackTarget",
    "ModelPrice",
    "PassageTarget",
    "Prompt",
    "PromptError",
    "PromptRegistry",
    "QuestionKind",
    "Route",
    "RouteName",
    "SourcePassage",
    "TierPolicy",
    "Turn",
    "UserContext",
    "answer_cache_key",
    "choose_prompt",
    "choose_route",
    "cost_usd",
    "model_key",
    "question_kind",
)
