"""Named retrieval configurations: a fusion method, an optional dense weight, and whether the
second stage (the server's reranker) re-scores the fused candidates, per request."""

from __future__ import annotations

import re
from dataclasses import dataclass

from contracts.rpc import retrieval_pb2
from genai_cli.errors import CliError

__all__ = ("METHODS", "SECOND_STAGE", "Config", "parse_configs")

#: Configuration name -> the FusionMethod a Search request carries.
METHODS = {
    "bm25": retrieval_pb2.FUSION_METHOD_SPARSE_ONLY,
    "dense": retrieval_pb2.FUSION_METHOD_DENSE_ONLY,
    "rrf": retrieval_pb2.FUSION_METHOD_RRF,
    "dbsf": retrieval_pb2.FUSION_METHOD_DBSF,
    "default": retrieval_pb2.FUSION_METHOD_UNSPECIFIED,
}
_FUSED = ("rrf", "dbsf", "default")
#: The suffix that adds the second stage to a configuration: `dbsf:0.6+rerank`.
SECOND_STAGE = "+rerank"
_SPEC = re.compile(r"(?P<method>[a-z0-9]+)(?::(?P<weight>[0-9.]+))?(?P<rerank>\+rerank)?")


@dataclass(frozen=True)
class Config:
    """One way of asking: `dbsf:0.7` is DBSF with dense weight 0.7; `+rerank` adds the second
    stage."""

    name: str
    fusion: int
    dense_weight: float | None = None
    second_stage: bool = False

    @property
    def rerank(self) -> retrieval_pb2.RerankMode.ValueType:
        """The request's RerankMode: on with `+rerank`; else off for a named method (its row
        measures the first stage alone), and the server's default for `default`."""
        if self.second_stage:
            return retrieval_pb2.RERANK_MODE_ON
        if self.fusion == retrieval_pb2.FUSION_METHOD_UNSPECIFIED:
            return retrieval_pb2.RERANK_MODE_UNSPECIFIED
        return retrieval_pb2.RERANK_MODE_OFF


def parse_configs(text: str) -> list[Config]:
    """`bm25,dense,rrf,dbsf:0.7,default+rerank` -> configurations, in order, no duplicates."""
    configs: list[Config] = []
    for raw in (part.strip() for part in text.split(",")):
        match = _SPEC.fullmatch(raw)
        if not match or match["method"] not in METHODS:
            raise CliError(
                f"--configs: {raw!r} is not one of {', '.join(METHODS)}, "
                "optionally with :WEIGHT after rrf, dbsf or default (e.g. dbsf:0.7), "
                f"then optionally {SECOND_STAGE} (e.g. dbsf:0.6{SECOND_STAGE})"
            )
        weight = None
        if match["weight"] is not None:
            if match["method"] not in _FUSED:
                raise CliError(f"--configs: {raw!r}: a dense weight applies to rrf and dbsf only")
            try:
                weight = float(match["weight"])
            except ValueError:
                weight = -1.0
            if not 0.0 <= weight <= 1.0:
                raise CliError(f"--configs: {raw!r}: the dense weight must lie in [0, 1]")
        if any(c.name == raw for c in configs):
            raise CliError(f"--configs: {raw!r} is named twice")
        configs.append(Config(raw, METHODS[match["method"]], weight, bool(match["rerank"])))
    return configs
