"""Guardrail: checks questions before retrieval and answers before they leave."""

SERVICE_NAME = "guardrail"
