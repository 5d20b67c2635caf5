"""The answer cache key: everything that can change an answer, and nothing else."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generation_service.core.request import AskInput


def answer_cache_key(ask: AskInput) -> str:
    """Stable key; freshness against document changes is checked by the cache itself."""
    material = _material(ask)
    material["question"] = " ".join(ask.question.lower().split())
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    return f"genai:answer:{ask.tenant}:{digest}"


def answer_scope(ask: AskInput) -> str:
    """Everything of the answer cache key but the question: the semantic cache's scope.

    Two questions may share an answer only within one scope (tenant, groups, prompt version
    and every other field that shapes the answer), so a field added to the key above is
    part of the scope too.
    """
    digest = hashlib.sha256(json.dumps(_material(ask), sort_keys=True).encode()).hexdigest()
    return f"{ask.tenant}:{digest}"


def _material(ask: AskInput) -> dict[str, object]:
    """The request's answer-shaping fields but the question."""
    material: dict[str, object] = {
        "tenant": ask.tenant,
        "groups": sorted(set(ask.groups)),
        "top_k": ask.top_k,
        "filters": sorted(ask.filters.items()),
        "prompt": ask.prompt_version,
    }
    # Only when asked for: keys of requests that leave fusion to retrieval stay as they were.
    if ask.fusion:
        material["fusion"] = ask.fusion
    # Typed filters narrow the passages; absent, keys stay as they were.
    if ask.typed_filters:
        material["typed_filters"] = list(ask.typed_filters)
    if ask.dense_weight is not None:
        material["dense_weight"] = round(ask.dense_weight, 6)
    # The second stage changes the passages; left to retrieval's default, keys stay as they were.
    if ask.rerank:
        material["rerank"] = ask.rerank
    # The user's context changes a model's answer; absent, keys stay as they were.
    if ask.user_context is not None:
        material["user_context"] = ask.user_context.model_dump(mode="json")
    return material
