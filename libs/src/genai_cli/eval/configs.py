"""Named retrieval configurations: a fusion method and an optional dense weight per request."""

from __future__ import annotations

import re
from dataclasses import dataclass

from contracts.rpc import retrieval_pb2
from genai_cli.errors import CliError

__all__ = ("METHODS", "Config", "parse_configs")

#: Configuration name -> the FusionMethod a Search request carries.
METHODS = {
    "bm25": retrieval_pb2.FUSION_METHOD_SPARSE_ONLY,
    "dense": retrieval_pb2.FUSION_METHOD_DENSE_ONLY,
    "rrf": retrieval_pb2.FUSION_METHOD_RRF,
    "dbsf": retrieval_pb2.FUSION_METHOD_DBSF,
    "default": retrieval_pb2.FUSION_METHOD_UNSPECIFIED,
}
_FUSED = ("rrf", "dbsf", "default")
_SPEC = re.compile(r"(?P<method>[a-z0-9]+)(?::(?P<weight>[0-9.]+))?")


@dataclass(frozen=True)
class Config:
    """One way of asking: `dbsf:0.7` is DBSF with dense weight 0.7."""

    name: str
    fusion: int
    dense_weight: float | None = None


def parse_configs(text: str) -> list[Config]:
    """`bm25,dense,rrf,dbsf,dbsf:0.7` -> configurations, in order, duplicates refused."""
    configs: list[Config] = []
    for raw in (part.strip() for part in text.split(",")):
        match = _SPEC.fullmatch(raw)
        if not match or match["method"] not in METHODS:
            raise CliError(
                f"--configs: {raw!r} is not one of {', '.join(METHODS)}, "
                "optionally with :WEIGHT after rrf, dbsf or default (e.g. dbsf:0.7)"
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
        configs.append(Config(raw, METHODS[match["method"]], weight))
    return configs
