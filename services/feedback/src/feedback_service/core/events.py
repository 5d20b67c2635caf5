"""From validated feedback to its two events, with ids stable per user and answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts import FeedbackReceived, Notification
from contracts.events import ID_NAMESPACE, TENANT_PATTERN


class FeedbackInput(BaseModel):
    """A feedback request after validation."""

    model_config = ConfigDict(frozen=True)

    tenant: Annotated[str, StringConstraints(pattern=TENANT_PATTERN)]
    user_id: Annotated[str, StringConstraints(max_length=256)] = ""
    answer_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,128}$")]
    rating: Literal["up", "down", "none"]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    useful_chunk_ids: list[Annotated[str, StringConstraints(max_length=128)]] = Field(
        default_factory=list, max_length=100
    )


def feedback_events(feedback: FeedbackInput) -> tuple[FeedbackReceived, Notification]:
    """The analytics event and the notification; resubmitting yields the same ids."""
    feedback_id = str(
        uuid.uuid5(
            ID_NAMESPACE, f"feedback/{feedback.tenant}/{feedback.user_id}/{feedback.answer_id}"
        )
    )
    received = FeedbackReceived(
        feedback_id=feedback_id,
        tenant=feedback.tenant,
        user_id=feedback.user_id,
        answer_id=feedback.answer_id,
        rating=feedback.rating,
        comment=feedback.comment,
        useful_chunk_ids=feedback.useful_chunk_ids,
    )
    notification = Notification(
        notification_id=str(
            uuid.uuid5(ID_NAMESPACE, f"notification/{feedback_id}/{feedback.rating}")
        ),
        tenant=feedback.tenant,
        user_id=feedback.user_id,
        kind="feedback.received",
        title=f"Feedback received: {_RATING_TEXT[feedback.rating]}",
        body=feedback.comment,
        attributes={
            "answer_id": feedback.answer_id,
            "feedback_id": feedback_id,
            "rating": feedback.rating,
        },
        occurred_at=received.received_at,
    )
    return received, notification


_RATING_TEXT = {"up": "thumbs up", "down": "thumbs down", "none": "comment"}
