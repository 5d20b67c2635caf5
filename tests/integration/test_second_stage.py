"""The shipped second stage on real servers: text_maxsim (`make models`), served by the stack's
Triton, used by the stack's retrieval through the public Search API on real python-faq
passages; its scores against the offline scorer that chose it (evaluation/second_stage.py),
the new order, and the server default (off: it did not beat the hybrid, EVALUATION.md)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from contracts.rpc import assistant_pb2, common_pb2, retrieval_pb2
from genai_cli.eval.corpus import corpus_documents, push_corpus
from platform_stack import Stack
from platform_triton.reranker import TritonRerankerClient

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SUBSET = ROOT / "tests" / "fixtures" / "python-faq-subset"
MODEL = "text_maxsim"
#: Real FAQ questions of the subset whose judged sections are indexed below.
QUERIES = 3


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def offline() -> ModuleType:
    return _load("second_stage", ROOT / "evaluation" / "second_stage.py")


@pytest.fixture(scope="module")
def maxsim_retrieval(request: pytest.FixtureRequest, stack: Stack) -> Stack:
    """The stack's retrieval with RETRIEVAL_RERANK_MODEL=text_maxsim; as before afterwards."""
    if request.config.getoption("--stack") == "external":
        pytest.skip("restarts the stack's retrieval: runs only on the embedded stack")
    if not (stack.config.model_repository / MODEL / ".build-stamp").is_file():
        pytest.fail(f"{MODEL} is not in {stack.config.model_repository}: run `make models`")
    settings = {
        "RETRIEVAL_RERANK_MODEL": MODEL,
        # The 2-core test machine is busy: the test checks the order, never the fallback.
        "RETRIEVAL_RERANK_TIMEOUT_S": "30",
    }
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)  # the stack builds a service's environment from this one
    try:
        stack.stop_component("retrieval")
        stack.start_component("retrieval", timeout_s=180)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    yield stack
    stack.stop_component("retrieval")
    stack.start_component("retrieval", timeout_s=180)


@pytest.fixture(scope="module")
def corpus(maxsim_retrieval: Stack) -> tuple[common_pb2.Principal, list[str]]:
    """The judged sections of the first queries of the subset, plus 20 others, indexed
    through the pipeline under a tenant of this module's own; the query texts."""
    queries = [json.loads(line) for line in (SUBSET / "queries.jsonl").open()][:QUERIES]
    wanted = {q["_id"] for q in queries}
    judged = {
        line.split("\t")[1]
        for line in list((SUBSET / "qrels" / "test.tsv").open())[1:]
        if line.split("\t")[0] in wanted
    }
    entries = {d["_id"]: d for d in map(json.loads, (SUBSET / "corpus.jsonl").open())}
    others = sorted(set(entries) - judged)[:20]
    chosen = {i: (entries[i]["title"], entries[i]["text"]) for i in sorted(judged) + others}
    tenant = f"ss{os.urandom(5).hex()}"
    version = time.time_ns()
    documents, refused = corpus_documents(chosen, tenant=tenant, version=version)
    assert not refused
    outcome = push_corpus(
        documents,
        bootstrap=maxsim_retrieval.config.kafka_bootstrap,
        tenant=tenant,
        version=version,
        idle_timeout_s=120,
    )
    assert outcome.confirmed == len(chosen), outcome.rejected
    return common_pb2.Principal(tenant=tenant, user_id="user-1"), [q["text"] for q in queries]


def _search(assistant, principal, query: str, **fields) -> assistant_pb2.SearchResponse:
    return assistant.Search(
        assistant_pb2.SearchRequest(principal=principal, query=query, **fields), timeout=60
    )


def test_triton_serves_the_offline_scorers_scores_on_real_pairs(
    maxsim_retrieval: Stack, corpus, assistant, offline
) -> None:
    principal, queries = corpus
    fused = _search(
        assistant, principal, queries[0], top_k=20, rerank=retrieval_pb2.RERANK_MODE_OFF
    )
    passages = [{"title": p.title, "heading": p.heading, "text": p.text} for p in fused.passages]
    texts = [offline.passage_string(p) for p in passages]

    async def served() -> list[float]:
        client = TritonRerankerClient(url=maxsim_retrieval.config.address("triton"), model=MODEL)
        try:
            assert await client.is_ready()
            return await client.score(queries[0], texts, timeout_s=60)
        finally:
            await client.close()

    reference = offline._scorers()["maxsim"](queries[0], passages)
    np.testing.assert_allclose(asyncio.run(served()), reference, atol=1e-5)


def test_search_reorders_by_maxsim_and_the_default_stays_fused(corpus, assistant, offline) -> None:
    principal, queries = corpus
    scorer = offline._scorers()["maxsim"]
    changed = 0
    for query in queries:
        fused = _search(assistant, principal, query, top_k=50, rerank=retrieval_pb2.RERANK_MODE_OFF)
        assert fused.rerank == retrieval_pb2.RERANK_OUTCOME_UNSPECIFIED
        reranked = _search(
            assistant, principal, query, top_k=10, rerank=retrieval_pb2.RERANK_MODE_ON
        )
        assert reranked.rerank == retrieval_pb2.RERANK_OUTCOME_APPLIED

        passages = [
            {"title": p.title, "heading": p.heading, "text": p.text} for p in fused.passages
        ]
        expected = np.array(scorer(query, passages))
        order = np.argsort(-expected, kind="stable")[:10]
        assert [p.chunk_id for p in reranked.passages] == [
            fused.passages[i].chunk_id for i in order
        ]
        np.testing.assert_allclose([p.score for p in reranked.passages], expected[order], atol=1e-4)
        np.testing.assert_allclose(
            [p.fused_score for p in reranked.passages],
            [fused.passages[i].score for i in order],
            rtol=1e-6,
        )
        changed += [p.chunk_id for p in reranked.passages] != [
            p.chunk_id for p in fused.passages[:10]
        ]

        # RETRIEVAL_RERANK_DEFAULT stays false: a request that does not ask gets fused order.
        default = _search(assistant, principal, query, top_k=10)
        assert default.rerank == retrieval_pb2.RERANK_OUTCOME_UNSPECIFIED
        assert [p.chunk_id for p in default.passages] == [p.chunk_id for p in fused.passages[:10]]
    assert changed, "MaxSim left every fused order as it was: the second stage did nothing"
