"""Pure feedback logic: validation and the events a feedback produces."""

from __future__ import annotations

from feedback_service.core.events import FeedbackInput, feedback_events

__all__ = ("FeedbackInput", "feedback_events")
