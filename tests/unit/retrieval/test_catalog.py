"""The document catalog on a real Qdrant Edge shard: every readable document once, in pages."""

from __future__ import annotations

import asyncio

import grpc
import numpy as np
import pytest

from contracts import Chunk, DocumentEmbedded, EmbeddedChunk, Operation
from contracts.events import utc_now
from contracts.rpc import catalog_pb2, common_pb2
from platform_grpc import InvalidArgument
from retrieval_service.adapters import EdgeChunkIndex
from retrieval_service.catalog import DocumentCatalogServicer
from retrieval_service.core import Bm25Encoder

DIMS = 8


def _event(
    doc_id: str,
    chunks: int,
    *,
    tenant: str = "acme",
    groups: list[str] | None = None,
    operation: Operation = Operation.UPSERT,
    version: int = 1,
) -> DocumentEmbedded:
    vectors = np.random.default_rng(len(doc_id)).normal(size=(chunks, DIMS)).astype("f4")
    return DocumentEmbedded(
        tenant=tenant,
        document_id=doc_id,
        operation=operation,
        version=version,
        submitted_at=utc_now(),
        title=f"Title of {doc_id}",
        source=f"https://intranet/{doc_id}",
        access_groups=groups or [],
        chunks=[]
        if operation is Operation.DELETE
        else [
            EmbeddedChunk.from_chunk(Chunk(index=i, text=f"{doc_id} part {i}", start=0, end=5), v)
            for i, v in enumerate(vectors)
        ],
    )


def _list(servicer: DocumentCatalogServicer, tenant: str, *, groups=(), size=0, token=""):
    request = catalog_pb2.ListDocumentsRequest(
        principal=common_pb2.Principal(tenant=tenant, groups=list(groups)),
        page_size=size,
        page_token=token,
    )
    return servicer.ListDocuments(request, None)  # type: ignore[arg-type]


def test_every_readable_document_is_listed_once_across_pages(tmp_path) -> None:
    async def scenario() -> None:
        index = EdgeChunkIndex(tmp_path / "shard", dimensions=DIMS, lexical=Bm25Encoder())
        await index.ensure_ready()
        for n in range(7):
            await index.apply(_event(f"doc-{n}", chunks=1 + n % 3))
        await index.apply(_event("secret", chunks=2, groups=["legal"]))
        await index.apply(_event("gone", chunks=2))
        await index.apply(_event("gone", chunks=0, operation=Operation.DELETE, version=2))
        await index.apply(_event("theirs", chunks=2, tenant="other"))
        catalog = DocumentCatalogServicer(index=index)

        listed, token, pages = [], "", 0
        while True:
            page = await _list(catalog, "acme", size=3, token=token)
            listed += [d.document_id for d in page.documents]
            pages += 1
            token = page.next_page_token
            if not token:
                break
        assert sorted(listed) == [f"doc-{n}" for n in range(7)]  # once each, no chunk twice
        assert pages >= 3
        everything = await _list(catalog, "acme", groups=["legal"])
        assert sorted(d.document_id for d in everything.documents) == sorted(
            [*(f"doc-{n}" for n in range(7)), "secret"]
        )
        first = {d.document_id: d for d in everything.documents}["doc-1"]
        assert (first.title, first.source, first.version) == (
            "Title of doc-1",
            "https://intranet/doc-1",
            1,
        )
        assert not everything.next_page_token
        assert [d.document_id for d in (await _list(catalog, "other")).documents] == ["theirs"]
        assert not (await _list(catalog, "nobody")).documents
        await index.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("tenant", "size", "token", "field"),
    [
        ("Bad Tenant", 0, "", "principal.tenant"),
        ("acme", 1001, "", "page_size"),
        ("acme", -1, "", "page_size"),
        ("acme", 0, "x" * 65, "page_token"),
    ],
)
def test_bad_requests_are_invalid_arguments(tmp_path, tenant, size, token, field) -> None:
    async def scenario() -> None:
        catalog = DocumentCatalogServicer(index=None)  # type: ignore[arg-type] - never reached
        with pytest.raises(InvalidArgument) as caught:
            await _list(catalog, tenant, size=size, token=token)
        assert field in str(caught.value.violations)
        assert caught.value.code is grpc.StatusCode.INVALID_ARGUMENT

    asyncio.run(scenario())
