"""Batch job settings (prefix GENERATION_BATCH_), a group of the generation settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from generation_service.core.batch import AdmissionPolicy


class BatchSettings(BaseSettings):
    """How batch jobs run below live traffic."""

    model_config = SettingsConfigDict(env_prefix="GENERATION_BATCH_", extra="ignore")

    enabled: bool = Field(True, description="Consume answers.jobs.v1 and answers.items.v1.")
    jobs_group: str = Field("generation-batch-jobs", description="Group of the job consumer.")
    items_group: str = Field("generation-batch-items", description="Group of the item consumer.")
    concurrency: int = Field(4, ge=1, le=64, description="Items in flight while live is idle.")
    idle_after_s: float = Field(
        0.25, ge=0, le=10, description="Quiet time after a live ask before batch items start."
    )
    max_wait_s: float = Field(
        30.0, gt=0, le=90, description="Wait behind live asks before one item may start anyway."
    )
    max_records: int = Field(16, ge=1, le=500, description="Items taken per Kafka fetch.")
    fetch_wait_ms: int = Field(200, ge=0, description="How long a fetch waits to fill up.")
    item_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="Tries of an item that fails (not an outage) before it is reported failed.",
    )
    ledger_ttl_s: int = Field(
        7 * 24 * 3600, ge=60, description="How long Redis remembers a job's finished items."
    )

    @property
    def policy(self) -> AdmissionPolicy:
        """The admission policy of the live-priority gate."""
        return AdmissionPolicy(
            concurrency=self.concurrency,
            idle_after_s=self.idle_after_s,
            max_wait_s=self.max_wait_s,
        )
