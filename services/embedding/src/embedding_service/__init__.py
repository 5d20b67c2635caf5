"""Embedding: batches chunks (Kafka) and queries (gRPC) through the engine on Triton."""

SERVICE_NAME = "embedding"
