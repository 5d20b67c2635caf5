"""Query vectors from the embedding service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from contracts.rpc import embedding_pb2, embedding_pb2_grpc
from platform_grpc import is_serving

if TYPE_CHECKING:
    import grpc


class QueryEmbedder(Protocol):
    """Embeds one search query."""

    async def embed_query(self, text: str) -> list[float]:
        """Return the query's dense vector."""
        ...

    async def is_ready(self) -> bool:
        """Whether the embedding side is SERVING."""
        ...


class GrpcQueryEmbedder:
    """The embedding service over gRPC; deadlines and trace ids come from the channel."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._channel = channel
        self._stub = embedding_pb2_grpc.EmbeddingStub(channel)

    async def embed_query(self, text: str) -> list[float]:
        """One Embed call with kind QUERY (reads are safe to retry, callers may)."""
        response = await self._stub.Embed(
            embedding_pb2.EmbedRequest(texts=[text], kind=embedding_pb2.TEXT_KIND_QUERY)
        )
        return list(response.vectors[0].values)

    async def is_ready(self) -> bool:
        """Health of the embedding service."""
        return await is_serving(self._channel)
