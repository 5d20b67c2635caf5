"""Ask's fusion method and dense weight: validated, passed on, and part of the cache key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts.rpc import retrieval_pb2
from generation_service.core import AskInput, answer_cache_key


def _ask(**fields: object) -> AskInput:
    return AskInput(
        **{"tenant": "acme", "question": "Hotel cap?", "top_k": 5, "prompt_version": "x@1"} | fields
    )


def test_fusion_and_weight_change_the_cache_key_only_when_asked_for() -> None:
    plain = answer_cache_key(_ask())
    assert answer_cache_key(_ask(fusion=0, dense_weight=None)) == plain
    dbsf = answer_cache_key(_ask(fusion=retrieval_pb2.FUSION_METHOD_DBSF))
    weighted = answer_cache_key(_ask(fusion=retrieval_pb2.FUSION_METHOD_DBSF, dense_weight=0.7))
    assert len({plain, dbsf, weighted}) == 3


def test_unknown_methods_and_weights_outside_zero_one_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown method 42"):
        _ask(fusion=42)
    with pytest.raises(ValidationError):
        _ask(dense_weight=1.01)
