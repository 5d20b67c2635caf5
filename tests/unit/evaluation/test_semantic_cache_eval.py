"""The threshold choice of the semantic cache evaluation: rates and the rule that picks one."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load():
    # evaluation/ is a script folder, not an installed package: load it by path.
    path = ROOT / "evaluation" / "semantic_cache_eval.py"
    spec = importlib.util.spec_from_file_location("semantic_cache_eval", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


ev = _load()


def test_rates_count_hits_among_same_and_wrong_hits_among_near_misses() -> None:
    similarities = np.array([0.95, 0.80, 0.97, 0.60])
    same = np.array([True, True, False, False])
    allowed = np.array([True, True, True, True])
    at_90 = ev.rates(similarities, same, 0.90, allowed=allowed)
    assert (at_90.hit_rate, at_90.wrong_hit_rate) == (0.5, 0.5)
    # The content-word guard stops the near miss, whatever its similarity.
    guarded = ev.rates(similarities, same, 0.90, allowed=np.array([True, True, False, True]))
    assert (guarded.hit_rate, guarded.wrong_hit_rate) == (0.5, 0.0)


def test_choice_is_the_best_hit_rate_within_the_bound_at_its_highest_threshold() -> None:
    curve = [
        ev.Rates(0.80, 0.9, 0.30, 9, 3),
        ev.Rates(0.85, 0.6, 0.01, 6, 1),
        ev.Rates(0.90, 0.6, 0.01, 6, 1),
        ev.Rates(0.95, 0.2, 0.00, 2, 0),
    ]
    assert ev.choose_threshold(curve, max_wrong_hit_rate=0.02).threshold == 0.90
    assert ev.choose_threshold(curve, max_wrong_hit_rate=0.0).threshold == 0.95
    with pytest.raises(ValueError, match="no threshold"):
        ev.choose_threshold(curve[:1], max_wrong_hit_rate=0.1)


def test_the_labelled_set_is_large_balanced_and_well_formed() -> None:
    pairs = ev.load_pairs()
    kinds = [p.kind for p in pairs]
    assert len(pairs) >= 100
    assert kinds.count("near_miss") >= 40 and kinds.count("rephrasing") >= 40
    assert all((p.kind == "near_miss") is (not p.same_answer) for p in pairs)
    assert all(p.a.strip() and p.b.strip() and p.a != p.b for p in pairs)
    assert len({(p.a, p.b) for p in pairs}) == len(pairs)
