"""gRPC DocumentCatalog: the documents of a tenant, as the index holds them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from contracts.events import TENANT_PATTERN
from contracts.rpc import catalog_pb2, catalog_pb2_grpc
from platform_grpc import InvalidArgument
from retrieval_service.core.catalog import MAX_PAGE_SIZE, page_size

if TYPE_CHECKING:
    from collections.abc import Sequence

    import grpc

    from retrieval_service.core.catalog import CatalogEntry

_MAX_TOKEN_CHARS = 64


class DocumentListing(Protocol):
    """An index that lists its documents (EdgeChunkIndex, QdrantChunkIndex, SplitChunkIndex)."""

    async def list_documents(
        self, tenant: str, groups: Sequence[str], *, limit: int, after: str | None
    ) -> tuple[list[CatalogEntry], str | None]:
        """A page of documents and the next page's offset (None after the last)."""
        ...


class DocumentCatalogServicer(catalog_pb2_grpc.DocumentCatalogServicer):
    """Lists documents under the caller's tenant and groups, a page at a time."""

    def __init__(self, *, index: DocumentListing) -> None:
        self._index = index

    async def ListDocuments(  # noqa: N802 - generated name
        self, request: catalog_pb2.ListDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.ListDocumentsResponse:
        """One page; its token is the index's offset, opaque to the caller."""
        tenant = request.principal.tenant
        if not re.fullmatch(TENANT_PATTERN.strip("^$"), tenant):
            raise InvalidArgument.field("principal.tenant", f"must match {TENANT_PATTERN}")
        size = page_size(request.page_size)
        if size is None:
            raise InvalidArgument.field("page_size", f"0 (the default) to {MAX_PAGE_SIZE}")
        if len(request.page_token) > _MAX_TOKEN_CHARS:
            raise InvalidArgument.field("page_token", "not a token this service gave")
        try:
            entries, following = await self._index.list_documents(
                tenant,
                list(request.principal.groups),
                limit=size,
                after=request.page_token or None,
            )
        except ValueError as exc:  # an offset the engine cannot read
            raise InvalidArgument.field("page_token", "not a token this service gave") from exc
        return catalog_pb2.ListDocumentsResponse(
            documents=[
                catalog_pb2.CatalogDocument(
                    document_id=e.document_id, title=e.title, source=e.source, version=e.version
                )
                for e in entries
            ],
            next_page_token=following or "",
        )
