"""Question vectors from the embedding service: the model retrieval embeds queries with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import grpc

from contracts.rpc import embedding_pb2, embedding_pb2_grpc
from platform_logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Sequence

_log = get_logger(__name__)


class QuestionEmbedder(Protocol):
    """Embeds one question, or says it cannot (None): the semantic cache is then skipped."""

    async def embed_question(self, text: str) -> Sequence[float] | None:
        """The question's dense vector, or None when the embedder failed or timed out."""
        ...


class GrpcQuestionEmbedder:
    """Embedding.Embed (kind QUERY) with its own deadline, capped by the request's."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout_s: float) -> None:
        self._stub = embedding_pb2_grpc.EmbeddingStub(channel)
        self._timeout_s = timeout_s

    async def embed_question(self, text: str) -> Sequence[float] | None:
        """One Embed call; any failure is logged and answered with None, never raised."""
        try:
            response = await self._stub.Embed(
                embedding_pb2.EmbedRequest(texts=[text], kind=embedding_pb2.TEXT_KIND_QUERY),
                timeout=self._timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            _log.warning("question_not_embedded", code=exc.code().name, error=exc.details())
            return None
        if not response.vectors:
            return None
        return response.vectors[0].values
