"""Stubs of the services generation calls, sharing one channel each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from contracts.rpc import (
    feedback_pb2_grpc,
    guardrail_pb2_grpc,
    retrieval_pb2_grpc,
)
from platform_grpc import create_channel, is_serving

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import grpc

    from generation_service.settings import Settings


@dataclass
class Peers:
    """gRPC stubs of retrieval, guardrail and feedback."""

    retrieval: retrieval_pb2_grpc.RetrievalStub
    guardrail: guardrail_pb2_grpc.GuardrailStub
    feedback: feedback_pb2_grpc.FeedbackStub
    channels: dict[str, grpc.aio.Channel]

    @classmethod
    def connect(cls, settings: Settings) -> Peers:
        """Open one channel per peer (connections are made lazily by gRPC)."""
        # Every method of these peers is safe to repeat: searches and checks are reads,
        # and feedback ids are deterministic, so a retried RecordFeedback is one fact.
        channels = {
            "retrieval": create_channel(settings.retrieval_addr, idempotent=True),
            "guardrail": create_channel(settings.guardrail_addr, idempotent=True),
            "feedback": create_channel(settings.feedback_addr, idempotent=True),
        }
        return cls(
            retrieval=retrieval_pb2_grpc.RetrievalStub(channels["retrieval"]),
            guardrail=guardrail_pb2_grpc.GuardrailStub(channels["guardrail"]),
            feedback=feedback_pb2_grpc.FeedbackStub(channels["feedback"]),
            channels=channels,
        )

    def probes(self) -> dict[str, Callable[[], Awaitable[bool]]]:
        """A health probe per peer."""
        return {name: _probe(channel) for name, channel in self.channels.items()}

    async def close(self) -> None:
        """Close every channel."""
        for channel in self.channels.values():
            await channel.close()


def _probe(channel: grpc.aio.Channel) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return await is_serving(channel)

    return probe
