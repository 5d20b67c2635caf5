"""The semantic answer cache on the real stack: paraphrases served within their scope only,
retired with the exact cache when a cited document changes or goes, bypassed while Redis
is down, shared by replicas through Redis; and every answer's cache economics."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid

import numpy as np
import pytest
import redis
from redis.asyncio import Redis as AsyncRedis

from contracts.rpc import assistant_pb2, common_pb2, ingestion_pb2
from generation_service.adapters.semantic_cache import SemanticCache
from generation_service.core.semantic import SemanticEntry, terms_key
from platform_stack.config import free_port
from platform_stack.documents import push_documents, run, wait_for_indexed
from platform_stack.redis_server import ensure_redis

pytestmark = pytest.mark.integration

PERKS = "The gym subsidy is USD 40 per month. The meal allowance is USD 15 per day."
QUESTION = "How much is the gym subsidy per month?"
#: Rewordings of QUESTION: other exact keys, the same content words, cosine 0.94-0.97.
REWORDED = "What's the gym subsidy per month?"
REWORDED_AGAIN = "whats the gym subsidy per month"
#: Cosine 0.95 to QUESTION, but it asks something else: never served its answer.
NEAR_MISS = "How much is the gym subsidy per year?"
OTHER = "How much is the meal allowance per day?"
PROMPT = "extractive@1"
MISS = assistant_pb2.CACHE_RESULT_MISS
EXACT = assistant_pb2.CACHE_RESULT_EXACT_HIT
SEMANTIC = assistant_pb2.CACHE_RESULT_SEMANTIC_HIT


@pytest.fixture
def perks_tenant(stack, tenant, make_document) -> str:
    bootstrap = stack.config.kafka_bootstrap
    run(push_documents(bootstrap, [make_document("perks", PERKS, version=1)]))
    run(wait_for_indexed(bootstrap, {(tenant, "perks", 1)}))
    return tenant


def _ask(assistant, principal, question: str, **fields: object) -> assistant_pb2.AskResponse:
    # Pinned: the routing policy never moves these asks to a model prompt.
    fields.setdefault("prompt_version", PROMPT)
    request = assistant_pb2.AskRequest(principal=principal, question=question, **fields)
    return assistant.Ask(request, timeout=30)


def test_a_paraphrase_is_served_from_the_semantic_cache_with_its_economics(
    stack, assistant, principal, perks_tenant
) -> None:
    first = _ask(assistant, principal, QUESTION)
    assert "USD 40" in first.answer and not first.cached
    assert first.cache.result == MISS and first.cache.semantic_skipped == ""
    assert first.cache.spent.ms > 0 and not first.cache.HasField("saved")

    exact = _ask(assistant, principal, QUESTION)
    assert exact.cached and exact.cache.result == EXACT
    assert exact.cache.saved == first.cache.spent and not exact.cache.HasField("spent")

    paraphrase = _ask(assistant, principal, REWORDED)
    assert paraphrase.cached and paraphrase.cache.result == SEMANTIC
    assert paraphrase.answer_id == first.answer_id and paraphrase.answer == first.answer
    assert 0.91 <= paraphrase.cache.similarity <= 1.0
    assert paraphrase.cache.saved == first.cache.spent
    # Served from the cache, it took a fraction of the time the answer once cost.
    assert paraphrase.timings.total_ms < first.cache.spent.ms + 1000

    near = _ask(assistant, principal, NEAR_MISS)
    assert not near.cached and near.cache.result == MISS

    totals = redis.Redis.from_url(stack.config.redis_url).hgetall(f"genai:usage:{perks_tenant}")
    assert int(totals[b"misses"]) == 2
    assert int(totals[b"exact_hits"]) == 1 and int(totals[b"semantic_hits"]) == 1
    assert float(totals[b"saved_ms"]) == pytest.approx(2 * first.cache.spent.ms, rel=1e-6)


def test_never_across_tenants_access_groups_or_prompt_versions(
    stack, assistant, principal, perks_tenant, make_document
) -> None:
    assert _ask(assistant, principal, QUESTION).cache.result == MISS

    stranger = common_pb2.Principal(tenant=f"t{uuid.uuid4().hex[:12]}", user_id="user-1")
    for question in (QUESTION, REWORDED):
        assert _ask(assistant, stranger, question).cache.result == MISS
    in_group = common_pb2.Principal(tenant=perks_tenant, user_id="user-1", groups=["hr"])
    assert _ask(assistant, in_group, REWORDED).cache.result == MISS
    assert _ask(assistant, principal, REWORDED, prompt_version="extractive@2").cache.result == MISS
    assert _ask(assistant, principal, REWORDED, top_k=2).cache.result == MISS
    # The same paraphrase within the scope is a hit: the misses above are the scope's doing.
    assert _ask(assistant, principal, REWORDED).cache.result == SEMANTIC


def test_calculations_and_not_found_answers_are_never_cached(
    stack, assistant, principal, perks_tenant
) -> None:
    for question in ("What is 17% of 2,340?", "What's 17% of 2,340"):
        computed = _ask(assistant, principal, question)
        assert computed.route == "calculator" and not computed.cached
        assert computed.cache.result == assistant_pb2.CACHE_RESULT_SKIPPED
    # Nothing in the documents answers it: computed again each time, by key or by meaning.
    for question in ("Who founded the company?", "who founded the company"):
        nothing = _ask(assistant, principal, question)
        assert not nothing.cached and nothing.cache.result == MISS
        assert not nothing.citations


def test_a_cited_documents_update_and_delete_retire_exact_and_semantic_entries(
    stack, assistant, ingestion, principal, perks_tenant, make_document
) -> None:
    bootstrap = stack.config.kafka_bootstrap
    assert _ask(assistant, principal, QUESTION).cache.result == MISS
    assert _ask(assistant, principal, OTHER).cache.result == MISS
    assert _ask(assistant, principal, REWORDED).cache.result == SEMANTIC

    updated = PERKS.replace("USD 40", "USD 55")
    run(push_documents(bootstrap, [make_document("perks", updated, version=2)]))
    run(wait_for_indexed(bootstrap, {(perks_tenant, "perks", 2)}))
    # Generation learns of the change from documents.indexed.v1, asynchronously: bounded wait.
    deadline = time.monotonic() + 15
    while (answer := _ask(assistant, principal, REWORDED)).cached and time.monotonic() < deadline:
        time.sleep(0.2)
    assert answer.cache.result == MISS and "USD 55" in answer.answer
    other = _ask(assistant, principal, OTHER)  # its exact entry predates the change
    assert other.cache.result == MISS
    # Answers computed after the change are served again, exactly and by meaning.
    assert _ask(assistant, principal, REWORDED).cache.result == EXACT
    again = _ask(assistant, principal, REWORDED_AGAIN)
    assert again.cache.result == SEMANTIC and "USD 55" in again.answer

    ingestion.DeleteDocument(
        ingestion_pb2.DeleteDocumentRequest(principal=principal, document_id="perks", version=3),
        timeout=10,
    )
    run(wait_for_indexed(bootstrap, {(perks_tenant, "perks", 3)}))
    deadline = time.monotonic() + 15
    while (gone := _ask(assistant, principal, REWORDED)).cached and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gone.cache.result == MISS and "USD 55" not in gone.answer
    assert _ask(assistant, principal, REWORDED_AGAIN).cache.result != SEMANTIC
    assert _ask(assistant, principal, OTHER).cache.result == MISS


def test_restart_rebuilds_from_redis_and_asks_are_answered_while_redis_is_down(
    own_stack, assistant, principal, perks_tenant
) -> None:
    # The shared Redis serves other tests: generation is moved to a Redis of its own, which
    # this test stops, and moved back after.
    shared = own_stack.config
    private = dataclasses.replace(shared, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    redis_process = ensure_redis(private, tie_to_parent=True)
    assert redis_process is not None
    try:
        own_stack.config = private
        own_stack.stop_component("generation")
        own_stack.start_component("generation")
        first = _ask(assistant, principal, QUESTION)
        assert first.cache.result == MISS
        # A new process has no local index: it reads the entries back from Redis.
        own_stack.stop_component("generation")
        own_stack.start_component("generation")
        assert _ask(assistant, principal, REWORDED).cache.result == SEMANTIC

        redis_process.stop()
        during = _ask(assistant, principal, REWORDED_AGAIN)
        assert "USD 40" in during.answer and not during.cached
        assert during.cache.result == MISS and during.cache.semantic_skipped == "redis_unavailable"
        exact = _ask(assistant, principal, QUESTION)
        assert exact.answer == first.answer and exact.cache.result == MISS
    finally:
        redis_process.stop()
        own_stack.config = shared
        own_stack.stop_component("generation")
        own_stack.start_component("generation")


def test_replicas_share_entries_through_redis(stack) -> None:
    """Two SemanticCache objects stand for two generation replicas on one Redis."""

    async def scenario() -> None:
        client = AsyncRedis.from_url(stack.config.redis_url)
        scope = f"t{uuid.uuid4().hex[:12]}:scope"
        tenant = scope.split(":")[0]
        one, two = (SemanticCache(client, threshold=0.9, ttl_s=60, max_entries=3) for _ in range(2))
        vector = np.array([0.6, 0.8], dtype=np.float32)
        terms = terms_key(QUESTION)
        now_ms = int(time.time() * 1000)
        assert await two.find(scope=scope, tenant=tenant, vector=vector, terms=terms) is None
        await one.add(scope=scope, entry=SemanticEntry("aa" * 32, now_ms, terms, vector))
        found = await two.find(scope=scope, tenant=tenant, vector=vector, terms=terms)
        assert found is not None and found.digest == "aa" * 32
        # The cap keeps the newest entries of a scope.
        for n in range(4):
            entry = SemanticEntry(f"{n:02d}" * 32, now_ms + n, terms, vector * (n + 1))
            await one.add(scope=scope, entry=entry)
        members = await client.zrange(f"genai:semantic:{scope}", 0, -1)
        assert [SemanticEntry.decode(m).digest for m in members] == [
            f"{n:02d}" * 32 for n in (1, 2, 3)
        ]
        # A change of the tenant's documents after the entries retires them on every replica.
        await client.set(f"genai:changed-ms:{tenant}", now_ms + 10)
        fresh = SemanticCache(client, threshold=0.9, ttl_s=60, max_entries=3)
        assert await fresh.find(scope=scope, tenant=tenant, vector=vector, terms=terms) is None
        assert await two.find(scope=scope, tenant=tenant, vector=vector, terms=terms) is None
        await client.delete(f"genai:semantic:{scope}", f"genai:changed-ms:{tenant}")
        await client.aclose()

    asyncio.run(scenario())
