"""gRPC Embedding: vectors for queries (and any caller's texts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.rpc import embedding_pb2, embedding_pb2_grpc
from platform_grpc import InvalidArgument
from platform_grpc.context import remaining

if TYPE_CHECKING:
    import grpc

    from embedding_service.adapters import Encoder


class EmbeddingServicer(embedding_pb2_grpc.EmbeddingServicer):
    """Validates limits, then embeds through the encoder."""

    def __init__(
        self, *, encoder: Encoder, model_label: str, max_texts: int, max_text_chars: int
    ) -> None:
        self._encoder = encoder
        self._model_label = model_label
        self._max_texts = max_texts
        self._max_text_chars = max_text_chars

    async def Embed(  # noqa: N802 - generated name
        self, request: embedding_pb2.EmbedRequest, context: grpc.aio.ServicerContext
    ) -> embedding_pb2.EmbedResponse:
        """Embed 1..max_texts texts."""
        texts = list(request.texts)
        if not texts:
            raise InvalidArgument.field("texts", "at least one text is required")
        if len(texts) > self._max_texts:
            raise InvalidArgument.field("texts", f"at most {self._max_texts} texts per call")
        for i, text in enumerate(texts):
            if len(text) > self._max_text_chars:
                raise InvalidArgument.field(
                    f"texts[{i}]", f"longer than {self._max_text_chars} characters"
                )
        vectors = await self._encoder.encode(texts, timeout_s=remaining(30.0))
        return embedding_pb2.EmbedResponse(
            vectors=[embedding_pb2.Vector(values=v.tolist()) for v in vectors],
            model=self._model_label,
            dimensions=int(vectors.shape[1]),
        )
