"""gRPC Feedback: validate, publish to feedback and notification topics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts import topics
from contracts.rpc import assistant_pb2, feedback_pb2_grpc
from feedback_service.core import FeedbackInput, feedback_events
from platform_grpc import PRINCIPAL_FIELDS, InvalidArgument, validated
from platform_logging import get_logger

if TYPE_CHECKING:
    import grpc
    from faststream.kafka import KafkaBroker

_log = get_logger(__name__)
_RATINGS = {
    assistant_pb2.RATING_THUMBS_UP: "up",
    assistant_pb2.RATING_THUMBS_DOWN: "down",
    assistant_pb2.RATING_UNSPECIFIED: "none",
}


class FeedbackServicer(feedback_pb2_grpc.FeedbackServicer):
    """Publishes each feedback once per user and answer (consumers dedupe on ids)."""

    def __init__(self, *, broker: KafkaBroker) -> None:
        self._broker = broker

    async def RecordFeedback(  # noqa: N802 - generated name
        self, request: assistant_pb2.SubmitFeedbackRequest, context: grpc.aio.ServicerContext
    ) -> assistant_pb2.SubmitFeedbackResponse:
        """Record a rating and/or comment on an answer."""
        rating = _RATINGS.get(request.rating)
        # The principal and the fields first, as every method does; then the rating.
        feedback = validated(
            FeedbackInput,
            {
                "tenant": request.principal.tenant,
                "user_id": request.principal.user_id,
                "answer_id": request.answer_id,
                "rating": rating or "none",
                "comment": request.comment,
                "useful_chunk_ids": list(request.useful_chunk_ids),
            },
            request_fields=PRINCIPAL_FIELDS,
        )
        if rating is None:
            raise InvalidArgument.field("rating", f"unknown rating {request.rating}")
        if rating == "none" and not feedback.comment:
            raise InvalidArgument.field("rating", "give a rating, a comment, or both")
        received, notification = feedback_events(feedback)
        await self._broker.publish(
            received, topics.FEEDBACK_RECEIVED, key=received.answer_id.encode()
        )
        # Keyed by user so one user's notifications stay ordered; by tenant when anonymous.
        await self._broker.publish(
            notification,
            topics.NOTIFICATIONS,
            key=(notification.user_id or notification.tenant).encode(),
        )
        _log.info("feedback_recorded", feedback_id=received.feedback_id, rating=rating)
        return assistant_pb2.SubmitFeedbackResponse(feedback_id=received.feedback_id)
