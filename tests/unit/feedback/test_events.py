"""Feedback ids are stable per user and answer, so push consumers see one event per fact."""

from __future__ import annotations

from feedback_service.core import FeedbackInput, feedback_events


def _feedback(**overrides: object) -> FeedbackInput:
    return FeedbackInput.model_validate(
        {"tenant": "acme", "user_id": "u1", "answer_id": "a-1", "rating": "up"} | overrides
    )


def test_resubmission_keeps_ids_and_a_new_rating_is_a_new_fact() -> None:
    received, notification = feedback_events(_feedback())
    again, again_note = feedback_events(_feedback())
    assert (received.feedback_id, notification.notification_id) == (
        again.feedback_id,
        again_note.notification_id,
    )
    _, changed = feedback_events(_feedback(rating="down"))
    assert changed.notification_id != notification.notification_id
    other_user, _ = feedback_events(_feedback(user_id="u2"))
    assert other_user.feedback_id != received.feedback_id


def test_notification_names_the_answer_and_user() -> None:
    _, notification = feedback_events(_feedback(comment="great"))
    assert notification.user_id == "u1" and notification.attributes["answer_id"] == "a-1"
    assert notification.body == "great" and notification.kind == "feedback.received"
