"""Ingestion: documents in from Kafka and gRPC, chunks out to documents.chunked.v1."""

SERVICE_NAME = "ingestion"
