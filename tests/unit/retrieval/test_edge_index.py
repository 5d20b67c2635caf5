"""The embedded index on a real Qdrant Edge shard in tmp_path: writes, versions, isolation, disk."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from contracts import (
    Chunk,
    DocumentEmbedded,
    EmbeddedChunk,
    IndexStatus,
    Operation,
    chunk_id,
)
from contracts.events import utc_now
from retrieval_service.adapters import EdgeChunkIndex, IndexUnavailableError
from retrieval_service.core import Bm25Encoder, Fusion, SearchQuery
from retrieval_service.core.filters import DEFAULT_FACET_METADATA_KEYS

DIMS = 8
TEXTS = [
    "Hotel stays are capped at USD 325 per night in London.",
    "The daily meal allowance is USD 75.",
    "Laptops must use full-disk encryption.",
    "Robot arms are serviced every quarter.",
]


def _vectors(n: int, seed: int = 7) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, DIMS)).astype("f4")
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


VECTORS = _vectors(len(TEXTS))


def _event(
    doc_id: str,
    texts: list[str],
    *,
    version: int = 1,
    tenant: str = "acme",
    operation: Operation = Operation.UPSERT,
    vectors: np.ndarray | None = None,
    **fields: object,
) -> DocumentEmbedded:
    vectors = VECTORS[: len(texts)] if vectors is None else vectors
    chunks = [
        EmbeddedChunk.from_chunk(
            Chunk(index=i, text=t, start=0, end=len(t), heading=f"Section {i}", page=i + 1),
            v,
            content_hash=f"{i:064x}",
        )
        for i, (t, v) in enumerate(zip(texts, vectors, strict=True))
    ]
    return DocumentEmbedded(
        tenant=tenant,
        document_id=doc_id,
        operation=operation,
        version=version,
        submitted_at=utc_now(),
        title=doc_id.title(),
        chunks=[] if operation is Operation.DELETE else chunks,
        **fields,
    )


def _query(text: str, **fields: object) -> SearchQuery:
    return SearchQuery(**{"tenant": "acme", "text": text, "top_k": 100, **fields})


def _index(path: Path, **options: object) -> EdgeChunkIndex:
    return EdgeChunkIndex(path, dimensions=DIMS, lexical=Bm25Encoder(), **options)


def test_applied_chunks_are_found_by_every_fusion_method(tmp_path) -> None:
    async def scenario() -> None:
        index = _index(tmp_path / "shard")
        await index.ensure_ready()
        done = await index.apply(
            _event("travel", TEXTS, source="https://intranet/travel", metadata={"dept": "hr"})
        )
        assert (done.status, done.chunk_count, done.version) == (IndexStatus.INDEXED, 4, 1)

        # Dense favours chunk 0 (its own vector), BM25 chunk 2: RRF keeps both on top.
        fused = await index.search(_query("laptop encryption", top_k=2), VECTORS[0].tolist())
        assert {h.chunk_index for h in fused} == {0, 2}
        dense = await index.search(
            _query("laptop encryption", fusion=Fusion.DENSE_ONLY), VECTORS[0].tolist()
        )
        assert dense[0].chunk_index == 0 and dense[0].score == pytest.approx(1.0, abs=1e-5)
        assert len(dense) == 4
        lexical = await index.search(_query("laptop encryption", fusion=Fusion.SPARSE_ONLY), [])
        assert [h.chunk_index for h in lexical] == [2]

        hit = dense[0]
        assert hit.chunk_id == chunk_id("acme", "travel", 0)
        assert (hit.document_id, hit.title, hit.heading, hit.version) == (
            "travel",
            "Travel",
            "Section 0",
            1,
        )
        assert hit.text == TEXTS[0] and hit.source == "https://intranet/travel"
        assert hit.metadata == {"dept": "hr"}
        await index.close()

    asyncio.run(scenario())


def test_stored_vectors_are_found_by_content_hash_within_the_tenant_only(tmp_path) -> None:
    async def scenario() -> None:
        index = _index(tmp_path / "shard")
        await index.ensure_ready()
        await index.apply(_event("travel", TEXTS))
        await index.apply(_event("copy", TEXTS[:2], tenant="other", vectors=-VECTORS[:2]))
        wanted = [f"{i:064x}" for i in (0, 2, 9)]
        found = await index.stored_vectors("acme", wanted)
        assert set(found) == {wanted[0], wanted[1]}
        assert np.allclose(found[wanted[0]], VECTORS[0], atol=1e-6)
        other = await index.stored_vectors("other", wanted)
        assert set(other) == {wanted[0]} and np.allclose(other[wanted[0]], -VECTORS[0], atol=1e-6)
        assert await index.stored_vectors("nobody", wanted) == {}
        # Search results say where each passage is.
        hit = (await index.search(_query("London hotel", top_k=1), VECTORS[0].tolist()))[0]
        assert (hit.page, hit.start, hit.end) == (1, 0, len(TEXTS[0]))
        await index.close()

    asyncio.run(scenario())


def test_rrf_scores_are_the_textbook_one_over_60_plus_rank(tmp_path) -> None:
    async def scenario() -> None:
        index = _index(tmp_path / "shard")
        await index.ensure_ready()
        await index.apply(_event("travel", TEXTS))
        # Chunk 2 is first on both sides: 1/61 + 1/61, as core.fusion and the server score it.
        hits = await index.search(_query("laptop encryption"), VECTORS[2].tolist())
        assert hits[0].chunk_index == 2
        assert hits[0].score == pytest.approx(2 / 61, rel=1e-5)
        await index.close()

    asyncio.run(scenario())


def test_stopword_queries_fall_back_to_dense_or_find_nothing_lexically(tmp_path) -> None:
    async def scenario() -> None:
        index = _index(tmp_path / "shard")
        await index.ensure_ready()
        await index.apply(_event("travel", TEXTS))
        assert await index.search(_query("what is the", fusion=Fusion.SPARSE_ONLY), []) == []
        fallback = await index.search(_query("what is the"), VECTORS[1].tolist())
        assert fallback[0].chunk_index == 1 and len(fallback) == 4
        await index.close()

    asyncio.run(scenario())


def test_redelivery_shorter_versions_stale_versions_and_deletes(tmp_path) -> None:
    async def scenario() -> None:
        index = _index(tmp_path / "shard")
        await index.ensure_ready()
        dense = VECTORS[0].tolist()
        v2 = _event("manual", TEXTS, version=2)
        await index.apply(v2)
        await index.apply(v2)  # the same message delivered twice
        hits = await index.search(_query("hotel", fusion=Fusion.DENSE_ONLY), dense)
        assert sorted(h.chunk_index for h in hits) == [0, 1, 2, 3]

        # An older version arriving late changes nothing and reports what is indexed.
        stale = await index.apply(_event("manual", ["Old text."], version=1))
        assert (stale.status, stale.chunk_count) == (IndexStatus.STALE_IGNORED, 4)

        # A shorter version removes the chunks past its end.
        short = await index.apply(_event("manual", ["Short robot arm note."], version=3))
        assert (short.status, short.chunk_count) == (IndexStatus.INDEXED, 1)
        hits = await index.search(_query("robot", fusion=Fusion.DENSE_ONLY), dense)
        assert [(h.text, h.version) for h in hits] == [("Short robot arm note.", 3)]
        # The same version again is a redelivery, not stale: applied, same result.
        again = await index.apply(_event("manual", ["Short robot arm note."], version=3))
        assert again.status is IndexStatus.INDEXED

        deleted = await index.apply(_event("manual", [], version=4, operation=Operation.DELETE))
        assert (deleted.status, deleted.chunk_count) == (IndexStatus.DELETED, 0)
        assert await index.search(_query("robot"), dense) == []
        await index.close()

    asyncio.run(scenario())


def test_tenants_and_access_groups_are_enforced_by_the_index(tmp_path) -> None:
    async def scenario() -> None:
        index = _index(tmp_path / "shard")
        await index.ensure_ready()
        dense = VECTORS[0].tolist()
        await index.apply(_event("policy", TEXTS[:2]))
        await index.apply(_event("policy", TEXTS[2:], tenant="globex"))
        await index.apply(_event("roadmap", TEXTS[3:], access_groups=["engineering"]))

        acme = await index.search(_query("hotel laptop robot"), dense)
        assert {(h.document_id, h.chunk_index) for h in acme} == {("policy", 0), ("policy", 1)}
        globex = await index.search(_query("hotel laptop robot", tenant="globex"), dense)
        assert {h.text for h in globex} == set(TEXTS[2:])
        engineer = await index.search(_query("robot", groups=["engineering"]), dense)
        assert {h.document_id for h in engineer} == {"policy", "roadmap"}
        other_group = await index.search(_query("robot", groups=["sales"]), dense)
        assert {h.document_id for h in other_group} == {"policy"}
        nobody = await index.search(_query("robot", tenant="initech"), dense)
        assert nobody == []

        # A delete in one tenant leaves the other tenant's document of the same id alone.
        await index.apply(_event("policy", [], version=2, operation=Operation.DELETE))
        assert await index.search(_query("hotel laptop", fusion=Fusion.DENSE_ONLY), dense) == []
        left = await index.search(_query("laptop", tenant="globex"), dense)
        assert len(left) == 2
        await index.close()

    asyncio.run(scenario())


def test_metadata_filters_narrow_every_fusion_method(tmp_path) -> None:
    async def scenario() -> None:
        index = _index(tmp_path / "shard")
        await index.ensure_ready()
        await index.apply(_event("hr", ["Annual leave is 25 days."], metadata={"dept": "hr"}))
        await index.apply(
            _event("it", ["Annual audits check laptops."], metadata={"dept": "it", "lang": "en"})
        )
        dense = VECTORS[0].tolist()
        for fusion in Fusion:
            query = _query("annual leave", fusion=fusion)
            everything = await index.search(query, dense)
            assert {h.document_id for h in everything} == {"hr", "it"}
            only_it = await index.search(
                query.model_copy(update={"filters": {"dept": "it"}}), dense
            )
            assert [(h.document_id, h.metadata["dept"]) for h in only_it] == [("it", "it")]
            both = {"dept": "it", "lang": "de"}
            assert await index.search(query.model_copy(update={"filters": both}), dense) == []
        await index.close()

    asyncio.run(scenario())


def test_the_index_survives_close_and_reopen_with_its_payload_indexes(tmp_path) -> None:
    path = tmp_path / "shard"

    async def write() -> None:
        index = _index(path)
        await index.ensure_ready()
        await index.apply(_event("travel", TEXTS, version=5))
        await index.close()
        await index.close()  # twice is harmless

    async def read() -> list:
        index = _index(path)
        await index.ensure_ready()
        stale = await index.apply(_event("travel", TEXTS[:1], version=4))
        hits = await index.search(_query("hotel", fusion=Fusion.DENSE_ONLY), VECTORS[0].tolist())
        await index.close()
        return [stale, hits]

    asyncio.run(write())
    stale, hits = asyncio.run(read())
    assert stale.status is IndexStatus.STALE_IGNORED  # the version survived too
    assert sorted(h.chunk_index for h in hits) == [0, 1, 2, 3]
    shard = qe.EdgeShard.load(str(path))
    try:
        schema = shard.info().payload_schema
        assert set(schema) == {
            "tenant",
            "document_id",
            "access_groups",
            "chunk_index",
            "content_hash",
            # Keyword indexes the engine counts facets from.
            "source",
            "title",
            "heading",
            *(f"metadata.{key}" for key in DEFAULT_FACET_METADATA_KEYS),
        }
        assert schema["tenant"].params.is_tenant is True
        assert schema["chunk_index"].data_type is qe.PayloadSchemaType.Integer
    finally:
        shard.close()


_KILLED_WRITER = """
import asyncio, os, signal, sys
from pathlib import Path
sys.path[:0] = [{tests!r}]
from test_edge_index import _event, _index, TEXTS

async def main():
    index = _index(Path({path!r}))
    await index.ensure_ready()
    await index.apply(_event("travel", TEXTS, version=7))
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no flush

asyncio.run(main())
"""


def test_a_write_survives_sigkill_of_its_process(tmp_path) -> None:
    path = tmp_path / "shard"
    script = _KILLED_WRITER.format(tests=str(Path(__file__).parent), path=str(path))
    done = subprocess.run([sys.executable, "-c", script], timeout=60, check=False)
    assert done.returncode == -signal.SIGKILL

    async def read() -> list:
        index = _index(path)
        await index.ensure_ready()
        hits = await index.search(_query("hotel", fusion=Fusion.DENSE_ONLY), VECTORS[0].tolist())
        await index.close()
        return hits

    hits = asyncio.run(read())
    assert sorted((h.chunk_index, h.version) for h in hits) == [(i, 7) for i in range(4)]


def test_a_second_opener_and_a_wrong_vector_size_fail_at_startup(tmp_path) -> None:
    async def scenario() -> None:
        path = tmp_path / "shard"
        first = _index(path)
        await first.ensure_ready()
        with pytest.raises(IndexUnavailableError, match="WAL"):
            await _index(path).ensure_ready()
        await first.close()
        wrong = EdgeChunkIndex(path, dimensions=DIMS * 2, lexical=Bm25Encoder())
        with pytest.raises(IndexUnavailableError, match="vector size"):
            await wrong.ensure_ready()
        await wrong.close()
        with pytest.raises(IndexUnavailableError, match="not open"):
            await _index(tmp_path / "never-opened").search(_query("x"), [])

    asyncio.run(scenario())


def test_engine_calls_run_on_one_worker_thread_never_the_event_loop(tmp_path) -> None:
    async def scenario() -> None:
        index = _index(tmp_path / "shard")
        await index.ensure_ready()
        loop_thread = threading.current_thread()
        threads = await asyncio.gather(*(index._run(threading.current_thread) for _ in range(8)))
        assert {t.name for t in threads} == {threads[0].name}
        assert threads[0] is not loop_thread and threads[0].name.startswith("edge-index")
        # Concurrent writes and reads of many documents all land, each applied whole.
        events = [_event(f"doc-{i}", TEXTS, vectors=_vectors(4, seed=i)) for i in range(30)]
        results = await asyncio.gather(
            *(index.apply(e) for e in events),
            *(index.search(_query("hotel"), VECTORS[0].tolist()) for _ in range(30)),
        )
        assert all(r.status is IndexStatus.INDEXED for r in results[:30])
        everything = await index.search(_query("hotel", fusion=Fusion.SPARSE_ONLY), [])
        assert len(everything) == 30
        await index.close()

    asyncio.run(scenario())


def test_optimize_on_start_compacts_and_keeps_every_point(tmp_path) -> None:
    path = tmp_path / "shard"
    vectors = _vectors(400, seed=3)

    async def write() -> None:
        index = _index(path)
        await index.ensure_ready()
        for d in range(100):
            texts = [f"Policy {d} clause {i} about travel." for i in range(4)]
            await index.apply(_event(f"doc-{d}", texts, vectors=vectors[4 * d : 4 * d + 4]))
        await index.apply(_event("doc-0", [], version=2, operation=Operation.DELETE))
        await index.close()

    async def read() -> list:
        index = _index(path, optimize_on_start=True)
        await index.ensure_ready()
        hits = await index.search(
            _query("travel", fusion=Fusion.DENSE_ONLY, top_k=10), vectors[4].tolist()
        )
        count = await index._run(lambda: index._open_shard().count(qe.CountRequest(exact=True)))
        await index.close()
        return [hits, count]

    asyncio.run(write())
    hits, count = asyncio.run(read())
    assert count == 396
    assert (hits[0].document_id, hits[0].chunk_index) == ("doc-1", 0)


def test_the_service_embeds_edge_without_a_url_and_uses_a_server_with_one(tmp_path) -> None:
    from retrieval_service.adapters import QdrantChunkIndex
    from retrieval_service.app import _build_index
    from retrieval_service.settings import Settings

    embedded = _build_index(Settings(embedding_addr="127.0.0.1:1", qdrant_path=str(tmp_path)))
    assert isinstance(embedded, EdgeChunkIndex)
    assert embedded.path == tmp_path / "edge" / "chunks"
    server = _build_index(
        Settings(
            embedding_addr="127.0.0.1:1",
            qdrant_url="http://127.0.0.1:1",
            qdrant_path=str(tmp_path),
        )
    )
    assert isinstance(server, QdrantChunkIndex)
    asyncio.run(server.close())
    asyncio.run(embedded.close())
