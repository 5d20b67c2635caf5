"""Ask's second-stage mode: validated, passed on to retrieval, part of the cache key when sent."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts.rpc import retrieval_pb2
from generation_service.core import AskInput, answer_cache_key


def _ask(**fields: object) -> AskInput:
    return AskInput(
        **{"tenant": "acme", "question": "Hotel cap?", "top_k": 5, "prompt_version": "x@1"} | fields
    )


def test_the_mode_changes_the_cache_key_only_when_asked_for() -> None:
    plain = answer_cache_key(_ask())
    assert answer_cache_key(_ask(rerank=retrieval_pb2.RERANK_MODE_UNSPECIFIED)) == plain
    on = answer_cache_key(_ask(rerank=retrieval_pb2.RERANK_MODE_ON))
    off = answer_cache_key(_ask(rerank=retrieval_pb2.RERANK_MODE_OFF))
    assert len({plain, on, off}) == 3


def test_unknown_modes_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown mode 9"):
        _ask(rerank=9)
