"""What ingestion reads from libraries with data of their own: the model's tokenizer and a
sentence splitter."""

from __future__ import annotations

from ingestion_service.adapters.sentences import sentence_spans
from ingestion_service.adapters.tokens import ModelTokenizer, packaged_tokenizer_path

__all__ = ("ModelTokenizer", "packaged_tokenizer_path", "sentence_spans")
