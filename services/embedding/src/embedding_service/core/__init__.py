"""Pure embedding logic: what text of a chunk is embedded (shared with ingestion)."""

from __future__ import annotations

from contracts.passages import content_hash, passage_text

__all__ = ("content_hash", "passage_text")
