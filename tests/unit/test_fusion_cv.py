"""The leave-one-set-out choice of fusion weights (``benchmarks/fusion_cv.py``) on fake
metric tables: no index, no model."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def cv() -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("fusion_cv", BENCH / "fusion_cv.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _row(r5: float, mrr: float) -> dict[str, float]:
    return {"R@5 any": r5, "MRR": mrr}


def test_search_finds_each_parameters_best(cv: ModuleType) -> None:
    grids = {"a": [0.0, 1.0, 2.0], "b": [0.0, 0.5, 1.0]}

    def score(p: dict[str, float]) -> tuple[float, float]:
        return (-abs(p["a"] - 2.0) - abs(p["b"] - 0.5), 0.0)

    assert cv.coordinate_search({"a": 1.0, "b": 1.0}, grids, score) == {"a": 2.0, "b": 0.5}


def test_a_tie_keeps_the_current_value_and_mrr_breaks_r5_ties(cv: ModuleType) -> None:
    grids = {"a": [0.0, 1.0, 2.0]}
    flat = cv.coordinate_search({"a": 1.0}, grids, lambda p: (0.8, 0.5))
    assert flat == {"a": 1.0}
    by_mrr = cv.coordinate_search({"a": 1.0}, grids, lambda p: (0.8, 0.5 + 0.1 * (p["a"] == 0)))
    assert by_mrr == {"a": 0.0}


def test_among_tied_new_values_the_one_nearest_the_default_wins(cv: ModuleType) -> None:
    grids = {"a": [0.0, 0.5, 1.0, 3.0]}
    chosen = cv.coordinate_search({"a": 1.0}, grids, lambda p: (float(p["a"] != 1.0), 0.0))
    assert chosen == {"a": 0.5}


def test_each_set_is_measured_with_weights_chosen_without_it(cv: ModuleType) -> None:
    # Set "x" is best at a=0 (gently); "y" and "z" at a=2 (steeply). Held out, "x" gets
    # a=2 (chosen on y, z) and its figure there; "y" is chosen on x and z, which together
    # prefer a=2 too.
    best = {"x": 0.0, "y": 2.0, "z": 2.0}
    slope = {"x": 0.1, "y": 0.2, "z": 0.2}
    seen: list[float] = []

    def evaluate(p: dict[str, float]) -> dict[str, dict[str, float]]:
        seen.append(p["a"])
        return {s: _row(1.0 - slope[s] * abs(p["a"] - b), 0.5) for s, b in best.items()}

    result = cv.cross_validate(evaluate, ["x", "y", "z"], {"a": 1.0}, {"a": [0.0, 1.0, 2.0]})
    x = result["held_out"]["x"]
    assert x["params"] == {"a": 2.0}
    assert x["default"] == _row(0.9, 0.5)
    assert x["chosen"] == pytest.approx(_row(0.8, 0.5))
    assert result["held_out"]["y"]["params"] == {"a": 2.0}
    assert result["held_out"]["y"]["chosen"] == _row(1.0, 0.5)
    assert result["mean"]["chosen"]["R@5 any"] == pytest.approx((0.8 + 1.0 + 1.0) / 3)
    assert result["mean"]["default"]["R@5 any"] == pytest.approx((0.9 + 0.8 + 0.8) / 3)
    assert result["in_sample"]["params"] == {"a": 2.0}
    assert set(seen) == {0.0, 1.0, 2.0}


def test_the_objective_means_over_the_named_sets_only(cv: ModuleType) -> None:
    table = {"x": _row(1.0, 1.0), "y": _row(0.5, 0.2), "z": _row(0.0, 0.0)}
    assert cv.objective(table, ["x", "y"]) == (0.75, 0.6)
