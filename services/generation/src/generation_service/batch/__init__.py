"""Batch jobs over Kafka: many questions answered below live traffic, resumable."""

from __future__ import annotations

from generation_service.batch.gate import LiveAssistant, LivePriorityGate
from generation_service.batch.handlers import build_batch_router
from generation_service.batch.ledger import BatchLedger, JobIdReused
from generation_service.batch.runner import BatchRunner, DocumentLister
from generation_service.batch.settings import BatchSettings

__all__ = (
    "BatchLedger",
    "BatchRunner",
    "BatchSettings",
    "DocumentLister",
    "JobIdReused",
    "LiveAssistant",
    "LivePriorityGate",
    "build_batch_router",
)
