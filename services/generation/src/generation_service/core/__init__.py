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
from generation_service.core.usage import ModelPrice, cost_usd

__all__ = (
    "DEFAULT_LABEL",
    "MAX_TOP_K",
    "NO_ANSWER",
    "AnswerEngine",
    "AskInput",
    "EngineAnswer",
    "EngineKind",
    "ExtractiveEngine",
    "FeedbackTarget",
    "ModelPrice",
    "PassageTarget",
    "Prompt",
    "PromptError",
    "PromptRegistry",
    "Route",
    "RouteName",
    "SourcePassage",
    "Turn",
    "UserContext",
    "answer_cache_key",
    "choose_route",
    "cost_usd",
)
