"""Reciprocal rank fusion, and the split index that uses it (Qdrant + a lexical side)."""

from __future__ import annotations

import asyncio

import numpy as np
from qdrant_client import AsyncQdrantClient

from contracts import Chunk, DocumentEmbedded, EmbeddedChunk, IndexStatus, Operation
from contracts.events import utc_now
from retrieval_service.adapters import PassageHit, QdrantChunkIndex, SplitChunkIndex
from retrieval_service.adapters.opensearch_lexical import bulk_actions, document_query, search_body
from retrieval_service.core import Bm25Encoder, Fusion, SearchQuery, reciprocal_rank_fusion


def test_rrf_rewards_agreement_between_rankings() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a", "d"]], key=str, limit=3)
    assert [item for item, _ in fused] == ["a", "c", "b"]
    assert fused[0][1] == 1 / 61 + 1 / 62


def test_opensearch_queries_enforce_tenant_groups_and_metadata() -> None:
    query = SearchQuery(
        tenant="acme", groups=["hr"], text="hotel cap", top_k=7, filters={"dept": "finance"}
    )
    body = search_body(query)
    assert body["size"] == 7
    assert body["query"]["bool"]["filter"] == [
        {"term": {"tenant": "acme"}},
        {"terms": {"access_groups": ["*", "hr"]}},
        {"term": {"metadata.dept": "finance"}},
    ]
    tail = document_query("acme", "d1", from_chunk=3)["query"]["bool"]["filter"]
    assert {"range": {"chunk_index": {"gte": 3}}} in tail


class _FakeLexicalIndex:
    """Stands in for OpenSearch, which cannot run on this machine: word overlap ranking."""

    def __init__(self) -> None:
        self.docs: dict[str, dict] = {}

    async def ensure_ready(self) -> None:
        return None

    async def apply(self, event: DocumentEmbedded) -> None:
        for key in [k for k, d in self.docs.items() if d["document_id"] == event.document_id]:
            del self.docs[key]
        if event.operation is Operation.UPSERT:
            for action in bulk_actions("chunks", event):
                self.docs[action["_id"]] = action["_source"]

    async def search(self, query: SearchQuery) -> list[PassageHit]:
        words = set(query.text.lower().split())
        scored = sorted(
            ((len(words & set(d["text"].lower().split())), cid, d) for cid, d in self.docs.items()),
            key=lambda s: -s[0],
        )
        return [
            PassageHit(
                cid,
                d["document_id"],
                d["chunk_index"],
                d["text"],
                d["title"],
                d["source"],
                d["heading"],
                float(s),
                d["version"],
            )
            for s, cid, d in scored[: query.top_k]
            if s > 0
        ]

    async def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None


def _event(
    doc_id: str,
    texts: list[str],
    vectors: np.ndarray,
    *,
    version: int,
    operation: Operation = Operation.UPSERT,
) -> DocumentEmbedded:
    chunks = [
        EmbeddedChunk.from_chunk(Chunk(index=i, text=t, start=0, end=len(t)), v)
        for i, (t, v) in enumerate(zip(texts, vectors, strict=True))
    ]
    return DocumentEmbedded(
        tenant="acme",
        document_id=doc_id,
        operation=operation,
        version=version,
        submitted_at=utc_now(),
        chunks=chunks,
    )


def test_split_index_fuses_dense_and_lexical_and_keeps_them_in_step(tmp_path) -> None:
    async def scenario() -> None:
        rng = np.random.default_rng(7)
        vectors = rng.normal(size=(3, 8)).astype("f4")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        dense = QdrantChunkIndex(
            AsyncQdrantClient(path=str(tmp_path)),
            collection="c",
            dimensions=8,
            lexical=Bm25Encoder(),
            payload_indexes=False,
        )
        lexical = _FakeLexicalIndex()
        index = SplitChunkIndex(dense, lexical)
        await index.ensure_ready()
        texts = ["hotel cap per night", "meal allowance per day", "laptop encryption rules"]
        assert (
            await index.apply(_event("d1", texts, vectors, version=2))
        ).status is IndexStatus.INDEXED
        # An older version is stale for both sides: the lexical mirror is not touched.
        stale = await index.apply(_event("d1", ["old text"], vectors[:1], version=1))
        assert stale.status is IndexStatus.STALE_IGNORED and len(lexical.docs) == 3

        query = SearchQuery(tenant="acme", text="laptop encryption", top_k=2)
        hits = await index.search(
            query, vectors[0].tolist()
        )  # dense favours chunk 0, lexical chunk 2
        assert {h.chunk_index for h in hits} == {0, 2}
        lexical_only = await index.search(
            query.model_copy(update={"fusion": Fusion.SPARSE_ONLY}), vectors[0].tolist()
        )
        assert [h.chunk_index for h in lexical_only] == [2]

        deleted = await index.apply(
            _event("d1", [], vectors[:0], version=3, operation=Operation.DELETE)
        )
        assert deleted.status is IndexStatus.DELETED and lexical.docs == {}
        assert await index.search(query, vectors[0].tolist()) == []
        await index.close()

    asyncio.run(scenario())


def test_opensearch_queries_carry_typed_filters_on_typed_and_exact_fields() -> None:
    query = SearchQuery(
        tenant="acme",
        text="hotel cap",
        typed_filters=[
            {"field": "metadata.year", "condition": "range", "gte": 2021},
            {
                "field": "metadata.published",
                "condition": "date_range",
                "before": "2024-01-01T00:00:00Z",
            },
            {"field": "source", "condition": "any_of", "any_of": ["wiki", "drive"]},
            {"field": "metadata.dept", "condition": "equals", "equals": "hr"},
        ],
    )
    assert search_body(query)["query"]["bool"]["filter"][2:] == [
        {"range": {"metadata_number.year": {"gte": 2021.0}}},
        {"range": {"metadata_date.published": {"lte": "2024-01-01T00:00:00.000000Z"}}},
        {"terms": {"exact.source": ["wiki", "drive"]}},
        {"term": {"metadata.dept": "hr"}},
    ]
