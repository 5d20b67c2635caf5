"""The semantic cache's pure parts: entries, scoped search, scopes, the economics."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from redis.asyncio import Redis

from contracts.rpc import assistant_pb2, common_pb2
from generation_service.adapters import AnswerCache
from generation_service.adapters.semantic_cache import SemanticCache
from generation_service.cache_flow import CacheFlow
from generation_service.core import AskInput, answer_cache_key
from generation_service.core.cache_key import answer_scope
from generation_service.core.semantic import (
    ScopeIndex,
    SemanticEntry,
    computed_outcome,
    content_terms,
    hit_outcome,
    terms_key,
)
from platform_stack.config import free_port

DIGEST = "ab" * 32


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _ask(**fields: object) -> AskInput:
    base: dict[str, object] = {
        "tenant": "acme",
        "question": "How many vacation days do new hires get?",
        "top_k": 5,
        "prompt_version": "extractive@1",
    }
    return AskInput(**{**base, **fields})


def test_entry_round_trips_and_rejects_other_bytes() -> None:
    entry = SemanticEntry(DIGEST, 1_700_000_000_123, 42, np.array([3.0, 4.0], dtype=np.float32))
    back = SemanticEntry.decode(entry.encode())
    assert back.digest == DIGEST and back.computed_ms == 1_700_000_000_123
    assert back.terms == 42
    np.testing.assert_allclose(back.vector, [0.6, 0.8], rtol=1e-6)  # stored at unit length
    with pytest.raises(ValueError, match="not a semantic cache entry"):
        SemanticEntry.decode(b"short")


def test_best_match_respects_threshold_and_freshness() -> None:
    index = ScopeIndex()
    index.add(
        [
            SemanticEntry("01" * 32, 100, 7, _unit(1, 0, 0)),
            SemanticEntry("02" * 32, 200, 7, _unit(0.8, 0.6, 0)),
        ]
    )
    query = _unit(0.9, 0.44, 0)
    match = index.best(query, terms=7, threshold=0.5, fresh_after_ms=0)
    assert match is not None and match.digest == "02" * 32
    assert match.similarity == pytest.approx(float(_unit(0.8, 0.6, 0) @ query), abs=1e-5)
    # Above every similarity: nothing.
    assert index.best(query, terms=7, threshold=0.9999, fresh_after_ms=0) is None
    # The closer entry was computed before the documents changed: the other one serves.
    stale_first = index.best(query, terms=7, threshold=0.5, fresh_after_ms=150)
    assert stale_first is not None and stale_first.digest == "02" * 32
    older = index.best(_unit(1, 0, 0), terms=7, threshold=0.5, fresh_after_ms=150)
    assert older is not None and older.digest == "02" * 32
    assert index.best(query, terms=7, threshold=0.5, fresh_after_ms=200) is None


def test_one_row_per_digest_newest_wins_and_drop_forgets() -> None:
    index = ScopeIndex()
    index.add([SemanticEntry(DIGEST, 100, 7, _unit(1, 0))])
    index.add(
        [SemanticEntry(DIGEST, 300, 7, _unit(0, 1)), SemanticEntry(DIGEST, 200, 7, _unit(1, 1))]
    )
    assert len(index) == 1
    match = index.best(_unit(0, 1), terms=7, threshold=0.99, fresh_after_ms=0)
    assert match is not None and match.similarity == pytest.approx(1.0)
    index.drop(not_after_ms=300)
    assert (
        len(index) == 0
        and index.best(_unit(0, 1), terms=7, threshold=0.0, fresh_after_ms=0) is None
    )


def test_vectors_of_another_dimension_are_never_compared() -> None:
    index = ScopeIndex()
    index.add(
        [SemanticEntry(DIGEST, 1, 7, _unit(1, 0)), SemanticEntry("cd" * 32, 1, 7, _unit(1, 0, 0))]
    )
    assert len(index) == 1
    assert index.best(_unit(1, 0, 0), terms=7, threshold=0.0, fresh_after_ms=0) is None


def test_scope_is_the_exact_key_without_the_question() -> None:
    ask = _ask()
    assert answer_scope(ask) == answer_scope(_ask(question="How much leave do new hires get?"))
    assert answer_cache_key(ask) != answer_cache_key(_ask(question="Leave for new hires?"))
    # Every field that shapes an answer separates scopes.
    for other in (
        _ask(tenant="globex"),
        _ask(groups=["hr"]),
        _ask(prompt_version="grounded@1"),
        _ask(top_k=3),
        _ask(filters={"department": "hr"}),
        _ask(fusion=1),
        _ask(dense_weight=0.3),
        _ask(typed_filters=({"field": "metadata.year", "equals": "2024"},)),
    ):
        assert answer_scope(other) != answer_scope(ask), other
    # Group order and duplicates do not matter, as for the exact key.
    assert answer_scope(_ask(groups=["a", "b"])) == answer_scope(_ask(groups=["b", "a", "a"]))
    assert answer_scope(ask).startswith("acme:")


def test_economics_of_a_miss_and_of_hits() -> None:
    computed = assistant_pb2.AskResponse(
        usage=common_pb2.Usage(prompt_tokens=900, completion_tokens=60, cost_usd=0.0021),
        timings=common_pb2.Timings(total_ms=1834.5),
    )
    miss = computed_outcome(computed, result=assistant_pb2.CACHE_RESULT_MISS)
    assert miss.spent.prompt_tokens == 900 and miss.spent.completion_tokens == 60
    assert miss.spent.cost_usd == pytest.approx(0.0021) and miss.spent.ms == pytest.approx(1834.5)
    assert not miss.HasField("saved")
    computed.cache.CopyFrom(miss)
    # A hit saves what the answer cost when computed, not what serving it took.
    computed.timings.total_ms = 3.0
    semantic = hit_outcome(computed, similarity=0.93)
    assert semantic.result == assistant_pb2.CACHE_RESULT_SEMANTIC_HIT
    assert semantic.similarity == pytest.approx(0.93)
    assert semantic.saved == miss.spent and not semantic.HasField("spent")
    exact = hit_outcome(computed, similarity=None)
    assert exact.result == assistant_pb2.CACHE_RESULT_EXACT_HIT and exact.saved == miss.spent


class _Embedder:
    """Stands in for the embedding service, which unit tests do not reach."""

    def __init__(self, vector: list[float] | None) -> None:
        self.vector = vector
        self.calls = 0

    async def embed_question(self, text: str) -> list[float] | None:
        self.calls += 1
        return self.vector


def test_lookup_reports_why_the_semantic_cache_was_skipped() -> None:
    async def scenario() -> None:
        # A port nobody listens on: Redis is down for every call.
        redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
        cache = AnswerCache(redis, ttl_s=60, answer_ttl_s=60)
        semantic = SemanticCache(redis, threshold=0.9, ttl_s=60, max_entries=10)
        down = await CacheFlow(cache=cache, semantic=semantic, embedder=_Embedder([1.0, 0.0])).find(
            _ask()
        )
        assert down.hit is None and down.semantic_skipped == "redis_unavailable"
        failing = _Embedder(None)
        no_vector = await CacheFlow(cache=cache, semantic=semantic, embedder=failing).find(_ask())
        assert no_vector.semantic_skipped == "embedder_unavailable" and failing.calls == 1
        off = await CacheFlow(cache=cache).find(_ask())
        assert off.semantic_skipped == "disabled"
        bypass = await CacheFlow(cache=cache, semantic=semantic, embedder=failing).find(
            _ask(bypass_cache=True)
        )
        assert not bypass.looked_up and failing.calls == 1  # no lookup, no embedding
        await redis.aclose()

    asyncio.run(scenario())


def test_an_entry_with_other_content_words_is_never_served() -> None:
    index = ScopeIndex()
    birth = "How long is paid parental leave for a birth parent?"
    index.add([SemanticEntry(DIGEST, 100, terms_key(birth), _unit(1, 0))])
    other = "How long is paid parental leave for a non-birth parent?"
    # The vectors are identical here; the words still tell the questions apart.
    assert index.best(_unit(1, 0), terms=terms_key(other), threshold=0.5, fresh_after_ms=0) is None
    same = "For a birth parent, how long is the paid parental leave?"
    assert terms_key(same) == terms_key(birth)
    assert index.best(_unit(1, 0), terms=terms_key(same), threshold=0.5, fresh_after_ms=0)


def test_content_terms_drop_function_words_and_keep_numbers_and_qualifiers() -> None:
    assert content_terms("What's the hotel cap per night in London?") == content_terms(
        "whats the hotel cap per night in london"
    )
    assert content_terms("Can new hires borrow vacation days?") == content_terms(
        "Can a new hire borrow vacation days?"
    )
    assert "20000" in content_terms("How many quotes do I need for a USD 20,000 order?")
    for a, b in [
        ("covered within 150 miles?", "covered beyond 150 miles?"),
        ("failure rate before the switch", "failure rate after the switch"),
        ("open defects at the end of Q3", "open defects at the end of Q2"),
        ("Is MFA required for email?", "Is MFA not required for email?"),
    ]:
        assert content_terms(a) != content_terms(b), (a, b)


def test_every_answer_is_settled_with_what_it_spent_or_saved() -> None:
    async def scenario() -> None:
        redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
        flow = CacheFlow(cache=AnswerCache(redis, ttl_s=60, answer_ttl_s=60))
        usage = common_pb2.Usage(prompt_tokens=10, completion_tokens=5, cost_usd=0.5)

        # No lookup (a refusal at the door, the calculator): skipped, and what it cost.
        refused = assistant_pb2.AskResponse(usage=usage, timings=common_pb2.Timings(total_ms=9))
        await flow.settle(refused, None, tenant="acme")
        assert refused.cache.result == assistant_pb2.CACHE_RESULT_SKIPPED
        assert refused.cache.spent.ms == 9 and refused.cache.spent.cost_usd == 0.5

        # Looked up and computed: a miss, with why the semantic side did not run.
        lookup = await flow.find(_ask())
        computed = assistant_pb2.AskResponse(usage=usage, timings=common_pb2.Timings(total_ms=40))
        await flow.settle(computed, lookup, tenant="acme")
        assert computed.cache.result == assistant_pb2.CACHE_RESULT_MISS
        assert computed.cache.semantic_skipped == "disabled" and computed.cache.spent.ms == 40

        # A hit keeps what find gave it: the original's cost as saved, nothing spent.
        hit = assistant_pb2.AskResponse(timings=common_pb2.Timings(total_ms=2))
        hit.cache.CopyFrom(hit_outcome(computed, similarity=0.95))
        await flow.settle(hit, lookup, tenant="acme")
        assert hit.cache.result == assistant_pb2.CACHE_RESULT_SEMANTIC_HIT
        assert hit.cache.saved.ms == 40 and not hit.cache.HasField("spent")
        await redis.aclose()

    asyncio.run(scenario())
