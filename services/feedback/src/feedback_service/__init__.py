"""Feedback: records end-user feedback and tells push consumers about it."""

SERVICE_NAME = "feedback"
