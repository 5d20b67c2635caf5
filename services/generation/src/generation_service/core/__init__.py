"""Pure generation logic: requests, the answer engine, cache keys."""

from __future__ import annotations

from generation_service.core.cache_key import answer_cache_key
from generation_service.core.engine import (
    NO_ANSWER,
    AnswerEngine,
    EngineAnswer,
    ExtractiveEngine,
    SourcePassage,
)
from generation_service.core.request import MAX_TOP_K, AskInput, FeedbackTarget
from generation_service.core.routing import Route, RouteName, choose_route

__all__ = (
    "MAX_TOP_K",
    "NO_ANSWER",
    "AnswerEngine",
    "AskInput",
    "EngineAnswer",
    "ExtractiveEngine",
    "FeedbackTarget",
    "Route",
    "RouteName",
    "SourcePassage",
    "answer_cache_key",
    "choose_route",
)
