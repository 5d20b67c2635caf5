"""Retrieval: owns the hybrid index; writes from Kafka, searches over gRPC."""

SERVICE_NAME = "retrieval"
