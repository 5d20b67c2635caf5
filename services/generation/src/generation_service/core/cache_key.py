"""The answer cache key: everything that can change an answer, and nothing else."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generation_service.core.request import AskInput


def answer_cache_key(ask: AskInput) -> str:
    """Stable key; freshness against document changes is checked by the cache itself."""
    material: dict[str, object] = {
        "tenant": ask.tenant,
        "groups": sorted(set(ask.groups)),
        "question": " ".join(ask.question.lower().split()),
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
    # The user's context changes a model's answer; absent, keys stay as they were.
    if ask.user_context is not None:
        material["user_context"] = ask.user_context.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    return f"genai:answer:{ask.tenant}:{digest}"
