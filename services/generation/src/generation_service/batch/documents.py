"""The tenant's documents, listed by retrieval's DocumentCatalog (for summary jobs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.events import MAX_JOB_ITEMS
from contracts.rpc import catalog_pb2, catalog_pb2_grpc, common_pb2
from generation_service.core.batch import ListedDocument
from platform_kafka import PoisonMessage

if TYPE_CHECKING:
    from collections.abc import Sequence

    import grpc

_PAGE_SIZE = 1000
_CALL_TIMEOUT_S = 30.0


class RetrievalDocuments:
    """Pages through DocumentCatalog.ListDocuments on retrieval's channel."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._catalog = catalog_pb2_grpc.DocumentCatalogStub(channel)

    async def list_documents(self, tenant: str, groups: Sequence[str]) -> list[ListedDocument]:
        """Every document of `tenant` the groups may read; more than a job holds is poison."""
        principal = common_pb2.Principal(tenant=tenant, groups=list(groups))
        listed: dict[str, ListedDocument] = {}
        token = ""
        while True:
            page = await self._catalog.ListDocuments(
                catalog_pb2.ListDocumentsRequest(
                    principal=principal, page_size=_PAGE_SIZE, page_token=token
                ),
                timeout=_CALL_TIMEOUT_S,
            )
            for document in page.documents:
                listed[document.document_id] = ListedDocument(document.document_id, document.title)
            if len(listed) > MAX_JOB_ITEMS:
                raise PoisonMessage(
                    "invalid_job",
                    f"summarise_documents: the tenant has more than {MAX_JOB_ITEMS} documents",
                )
            token = page.next_page_token
            if not token:
                return list(listed.values())
