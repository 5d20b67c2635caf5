"""The cache half of the ask flow: exact then semantic lookup, storing, and the economics.

`find` looks a question up (exact key first, then a paraphrase within the same scope),
`keep` stores a computed answer under both, and `settle` gives every answer its
`CacheOutcome` (hit and what it saved, or miss and what it cost), logs it and sums it per
tenant. Redis or the embedder failing turns a lookup into a miss, never into an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from contracts.rpc import assistant_pb2
from generation_service.adapters.semantic_cache import SemanticCacheUnavailable
from generation_service.core import answer_cache_key
from generation_service.core.cache_key import answer_scope
from generation_service.core.semantic import (
    SemanticEntry,
    computed_outcome,
    hit_outcome,
    terms_key,
)
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Sequence

    from generation_service.adapters import AnswerCache
    from generation_service.adapters.embedder import QuestionEmbedder
    from generation_service.adapters.semantic_cache import SemanticCache
    from generation_service.core import AskInput

_log = get_logger(__name__)


@dataclass
class CacheLookup:
    """What the lookup of one question found, and what storing its answer needs."""

    key: str
    scope: str
    #: The question as looked up (redacted), embedded again only if the lookup did not.
    question: str
    #: A served answer (cached=True, its outcome set), or None: compute it.
    hit: assistant_pb2.AskResponse | None = None
    #: The question's vector, when it was embedded (reused to store the answer).
    vector: Sequence[float] | None = None
    #: False for bypass_cache: the answer is computed, and still stored.
    looked_up: bool = True
    #: Why the semantic lookup did not run, when it did not.
    semantic_skipped: str = ""


class CacheFlow:
    """The exact cache in Redis and, when configured, the semantic cache beside it."""

    def __init__(
        self,
        *,
        cache: AnswerCache,
        semantic: SemanticCache | None = None,
        embedder: QuestionEmbedder | None = None,
    ) -> None:
        self._cache = cache
        self._semantic = semantic if embedder is not None else None
        self._embedder = embedder

    async def find(self, ask: AskInput) -> CacheLookup:
        """Look up `ask` (its question already redacted) in the exact, then the semantic cache."""
        lookup = CacheLookup(
            key=answer_cache_key(ask), scope=answer_scope(ask), question=ask.question
        )
        if ask.bypass_cache:
            lookup.looked_up = False
            return lookup
        if raw := await self._cache.get(lookup.key, tenant=ask.tenant):
            lookup.hit = _served(raw, similarity=None)
            return lookup
        if self._semantic is None or self._embedder is None:
            lookup.semantic_skipped = "disabled"
            return lookup
        lookup.vector = await self._embedder.embed_question(ask.question)
        if lookup.vector is None:
            lookup.semantic_skipped = "embedder_unavailable"
            return lookup
        try:
            match = await self._semantic.find(
                scope=lookup.scope,
                tenant=ask.tenant,
                vector=lookup.vector,
                terms=terms_key(ask.question),
            )
        except SemanticCacheUnavailable:
            lookup.semantic_skipped = "redis_unavailable"
            return lookup
        if match is None:
            return lookup
        # Served through the exact entry: its TTL and the tenant's change time still apply.
        matched_key = f"{lookup.key.rsplit(':', 1)[0]}:{match.digest}"
        if raw := await self._cache.get(matched_key, tenant=ask.tenant):
            lookup.hit = _served(raw, similarity=match.similarity)
        return lookup

    async def keep(
        self, lookup: CacheLookup, response: assistant_pb2.AskResponse, *, computed_ms: int
    ) -> None:
        """Store a computed, cacheable answer (with its cost) under its key and its meaning."""
        response.cache.CopyFrom(_computed(response, lookup))
        await self._cache.put(lookup.key, response.SerializeToString(), computed_ms=computed_ms)
        if self._semantic is None or self._embedder is None:
            return
        vector = lookup.vector
        if vector is None and lookup.semantic_skipped != "embedder_unavailable":
            vector = await self._embedder.embed_question(lookup.question)
        if vector is None:
            return
        digest = lookup.key.rsplit(":", 1)[1]
        entry = SemanticEntry(
            digest,
            computed_ms,
            terms_key(lookup.question),
            np.asarray(vector, dtype=np.float32),
        )
        await self._semantic.add(scope=lookup.scope, entry=entry)

    async def settle(
        self, response: assistant_pb2.AskResponse, lookup: CacheLookup | None, *, tenant: str
    ) -> None:
        """Give the answer its outcome (if `find`/`keep` did not), log it, sum it per tenant."""
        if not response.HasField("cache") or response.cache.result in (
            assistant_pb2.CACHE_RESULT_MISS,
            assistant_pb2.CACHE_RESULT_SKIPPED,
        ):
            # Computed here: its cost is this answer's, with the time it finally took.
            response.cache.CopyFrom(_computed(response, lookup))
        outcome = response.cache
        _log.info(
            "answer_cache_outcome",
            answer_id=response.answer_id,
            result=assistant_pb2.CacheResult.Name(outcome.result),
            similarity=outcome.similarity or None,
            semantic_skipped=outcome.semantic_skipped or None,
            spent_cost_usd=outcome.spent.cost_usd,
            spent_tokens=outcome.spent.prompt_tokens + outcome.spent.completion_tokens,
            spent_ms=outcome.spent.ms,
            saved_cost_usd=outcome.saved.cost_usd,
            saved_tokens=outcome.saved.prompt_tokens + outcome.saved.completion_tokens,
            saved_ms=outcome.saved.ms,
        )
        await self._cache.add_cache_outcome(tenant, outcome)


def _served(raw: bytes, *, similarity: float | None) -> assistant_pb2.AskResponse:
    response = assistant_pb2.AskResponse.FromString(raw)
    response.cached = True
    response.cache.CopyFrom(hit_outcome(response, similarity=similarity))
    return response


def _computed(
    response: assistant_pb2.AskResponse, lookup: CacheLookup | None
) -> assistant_pb2.CacheOutcome:
    if lookup is None or not lookup.looked_up:
        return computed_outcome(response, result=assistant_pb2.CACHE_RESULT_SKIPPED)
    return computed_outcome(
        response, result=assistant_pb2.CACHE_RESULT_MISS, semantic_skipped=lookup.semantic_skipped
    )
