"""Pure embedding logic: what text of a chunk is embedded."""

from __future__ import annotations

from embedding_service.core.passages import passage_text

__all__ = ("passage_text",)
