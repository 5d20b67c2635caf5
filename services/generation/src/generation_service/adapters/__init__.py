"""Clients of the generation service's dependencies."""

from __future__ import annotations

from generation_service.adapters.cache import AnswerCache
from generation_service.adapters.models import ModelClient, ModelUsage, OpenAIModel, TritonModel
from generation_service.adapters.peers import Peers
from generation_service.adapters.prompt_files import load_prompts

__all__ = (
    "AnswerCache",
    "ModelClient",
    "ModelUsage",
    "OpenAIModel",
    "Peers",
    "TritonModel",
    "load_prompts",
)
