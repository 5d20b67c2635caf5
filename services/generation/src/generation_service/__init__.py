"""Generation: the public Assistant API; orchestrates guardrail, retrieval, engine, cache."""

SERVICE_NAME = "generation"
