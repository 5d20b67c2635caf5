"""Turns a document body into blocks of text under their heading paths (one module a format)."""

from __future__ import annotations

from ingestion_service.core.parsing.blocks import Block
from ingestion_service.core.parsing.legacy import parse

__all__ = ("Block", "parse")
