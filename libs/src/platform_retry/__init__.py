"""Retry policies, for idempotent operations only."""

from __future__ import annotations

from platform_retry.policies import idempotent_retry

__all__ = ("idempotent_retry",)
