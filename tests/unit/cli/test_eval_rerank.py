"""`genai eval retrieval` configurations with the second stage (`+rerank`)."""

from __future__ import annotations

import pytest

from contracts.rpc import retrieval_pb2
from genai_cli.errors import CliError
from genai_cli.eval.configs import Config, parse_configs


def test_plus_rerank_turns_the_second_stage_on_for_any_configuration() -> None:
    configs = parse_configs("default+rerank,dbsf:0.6+rerank,bm25+rerank,dbsf:0.6,default")
    assert configs == [
        Config("default+rerank", retrieval_pb2.FUSION_METHOD_UNSPECIFIED, None, True),
        Config("dbsf:0.6+rerank", retrieval_pb2.FUSION_METHOD_DBSF, 0.6, True),
        Config("bm25+rerank", retrieval_pb2.FUSION_METHOD_SPARSE_ONLY, None, True),
        Config("dbsf:0.6", retrieval_pb2.FUSION_METHOD_DBSF, 0.6),
        Config("default", retrieval_pb2.FUSION_METHOD_UNSPECIFIED),
    ]
    # Named methods measure the first stage alone; "default" is whatever the server does.
    assert [c.rerank for c in configs] == [
        retrieval_pb2.RERANK_MODE_ON,
        retrieval_pb2.RERANK_MODE_ON,
        retrieval_pb2.RERANK_MODE_ON,
        retrieval_pb2.RERANK_MODE_OFF,
        retrieval_pb2.RERANK_MODE_UNSPECIFIED,
    ]


@pytest.mark.parametrize("bad", ["dbsf+rerank:0.6", "rerank", "dbsf+rerank+rerank", "dbsf+x"])
def test_malformed_second_stage_suffixes_are_refused(bad: str) -> None:
    with pytest.raises(CliError, match="--configs"):
        parse_configs(bad)


def test_a_re_scored_response_pools_by_the_order_returned() -> None:
    from contracts.rpc import assistant_pb2, common_pb2
    from genai_cli.eval import _evaluation_module
    from genai_cli.eval.search import scored_passages

    # Two re-scored passages (reranker logits), then one past the candidates (a fused score).
    passages = [
        common_pb2.Passage(document_id="a", score=-1.5, fused_score=0.2),
        common_pb2.Passage(document_id="b", score=-2.0, fused_score=0.9),
        common_pb2.Passage(document_id="c", score=0.4),
    ]
    applied = assistant_pb2.SearchResponse(
        passages=passages, rerank=retrieval_pb2.RERANK_OUTCOME_APPLIED
    )
    pool = _evaluation_module("metrics").pool_by_document
    assert pool(scored_passages(applied)) == ["a", "b", "c"]
    # A fused response keeps its scores (sorted already): pooling by max score.
    fused = assistant_pb2.SearchResponse(passages=passages)
    assert scored_passages(fused) == [("a", -1.5), ("b", -2.0), ("c", 0.4)]
