"""Do re-chosen fusion weights help on a set they were not chosen on? Leave one set out.

``Ranking.weights`` (``index/search/fusion.py``) was chosen on the mean over the three
localization sets, so its figures there are in-sample. Here, for each set S, the weights are
chosen on the other two sets (the most mean R@5(any), ties to the most mean MRR) and then
measured on S alone; the mean over the three held-out sets is printed beside the default
weights' figures on the same sets, and so are the weights chosen on all three sets (in-sample,
an upper bound of what re-choosing can show, not a result).

The search is coordinate-wise, from ``DEFAULT``: each signal's weight in turn is tried at
``FACTORS`` (0, 0.25, 0.5, 0.75, 1, 1.5, 2) times its default weight, then ``bonus`` at
``BONUSES`` (0, 0.1, 0.2, 0.3, 0.5), the others held; a value is kept only if it scores
higher (a tie keeps the current value; among tied new values, the one nearest the default
wins). Up to ``--sweeps`` (3) passes, fewer when a pass changes nothing. A signal with no
evidence on any request (``history``: the corpora are not git repositories) keeps its
default. The start, ``DEFAULT``, was itself chosen on all three sets, and the search is
local, so the held-out figures are not wholly free of those sets.

Evidence is gathered once per request (``gather``, with the home's settings and its built
index, as ``retrieval.py`` does; nothing is indexed here); each weighting is only ``fuse`` +
``best_first`` + ``metrics`` on every set, cached.

    python benchmarks/fusion_cv.py [--home DIR] [--corpora DIR] [--sweeps 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval as R

FACTORS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
BONUSES = (0.0, 0.1, 0.2, 0.3, 0.5)
Params = dict[str, float]  # signal → weight, and "bonus"
Table = dict[str, dict[str, float]]  # set → metric → value
Evaluate = Callable[[Params], Table]


def objective(table: Table, sets: Sequence[str]) -> tuple[float, float]:
    """Mean R@5(any) over ``sets``, then mean MRR (rounded, so float noise is no tie-break)."""
    r5 = sum(table[s]["R@5 any"] for s in sets) / len(sets)
    mrr = sum(table[s]["MRR"] for s in sets) / len(sets)
    return round(r5, 9), round(mrr, 9)


def coordinate_search(start: Params, grids: Mapping[str, Sequence[float]],
                      score: Callable[[Params], tuple[float, float]], sweeps: int = 3
                      ) -> Params:
    """The best parameters found by trying each one's grid in turn, the others held.

    Args:
        start: The first parameters (also the default a tie is settled towards).
        grids: Parameter → values to try; parameters not named keep their start value.
        score: Higher is better (compared as a tuple).
        sweeps: The most passes over ``grids``; a pass that changes nothing ends it.

    Returns:
        The parameters after the last pass.
    """
    current = dict(start)
    best = score(current)
    for _ in range(sweeps):
        changed = False
        for name, values in grids.items():
            scored = [(score({**current, name: v}), v) for v in values]
            top = max(s for s, _ in scored)
            if top <= best:
                continue  # a tie keeps the current value
            tied = [v for s, v in scored if s == top]
            current[name] = _nearest(tied, start[name])
            best, changed = top, True
        if not changed:
            break
    return current


def _nearest(values: Sequence[float], to: float) -> float:
    return min(values, key=lambda v: (abs(v - to), v))


def _score_on(evaluate: Evaluate, sets: Sequence[str], params: Params) -> tuple[float, float]:
    return objective(evaluate(params), sets)


def cross_validate(evaluate: Evaluate, sets: Sequence[str], start: Params,
                   grids: Mapping[str, Sequence[float]], sweeps: int = 3) -> dict[str, Any]:
    """Leave-one-set-out: for each set, parameters chosen on the others, measured on it.

    Args:
        evaluate: Parameters → every set's metrics (``R@5 any`` and ``MRR`` at least).
        sets: The sets, each held out in turn.
        start: The default parameters (the search's start and the figures beside).
        grids: As in :func:`coordinate_search`.
        sweeps: As in :func:`coordinate_search`.

    Returns:
        ``held_out``: set → ``default``/``chosen`` metrics on it and ``params`` chosen
        without it; ``mean``: the ``default``/``chosen`` mean over the held-out sets;
        ``in_sample``: ``params`` chosen on every set and their ``metrics`` per set.
    """
    default = evaluate(start)
    held_out = {}
    for out in sets:
        rest = [s for s in sets if s != out]
        params = coordinate_search(start, grids, partial(_score_on, evaluate, rest), sweeps)
        held_out[out] = {"params": params, "default": default[out],
                         "chosen": evaluate(params)[out]}
    params = coordinate_search(start, grids, partial(_score_on, evaluate, sets), sweeps)
    return {
        "held_out": held_out,
        "mean": {k: R.mean([held_out[s][k] for s in sets]) for k in ("default", "chosen")},
        "in_sample": {"params": params, "metrics": evaluate(params)},
    }


def changes(params: Params, start: Params) -> str:
    """The parameters that differ from ``start``, as ``name old→new``."""
    moved = [f"{k} {start[k]:g}→{v:g}" for k, v in params.items() if v != start[k]]
    return ", ".join(moved) or "(the default)"


def _cell(m: Mapping[str, float]) -> str:
    return f"{m['R@5 any']:.3f} / {m['MRR']:.3f}"


def report(result: dict[str, Any], sets: Sequence[str], start: Params) -> str:
    """The held-out table and the in-sample table, in markdown."""
    lines = ["Leave one set out: weights chosen on the other two sets, R@5(any) / MRR on the "
             "held-out set",
             "| held-out set | default | CV-chosen | weights chosen (on the other two) |",
             "|---|---|---|---|"]
    for s in sets:
        h = result["held_out"][s]
        lines.append(f"| {s} | {_cell(h['default'])} | {_cell(h['chosen'])} | "
                     f"{changes(h['params'], start)} |")
    m = result["mean"]
    lines.append(f"| mean (held out) | {_cell(m['default'])} | {_cell(m['chosen'])} | |")
    ins = result["in_sample"]
    lines += ["", "In-sample (NOT held out): weights chosen on all three sets, "
              "R@5(any) / MRR on those same sets",
              "| set | default | chosen on all three |", "|---|---|---|"]
    for s in sets:
        lines.append(f"| {s} | {_cell(result['held_out'][s]['default'])} | "
                     f"{_cell(ins['metrics'][s])} |")
    lines.append(f"| mean | {_cell(m['default'])} | "
                 f"{_cell(R.mean([ins['metrics'][s] for s in sets]))} |")
    lines.append(f"\nWeights chosen on all three: {changes(ins['params'], start)}")
    return "\n".join(lines)


def _gather_all(names: Sequence[str], folder: Path) -> dict[str, tuple[Any, list, list]]:
    """Per set: its lexical snapshot, every request's evidence and its gold files."""
    from greenpair.core.config import load_settings
    from greenpair.core.index import open_index
    from greenpair.core.index.search import gather

    settings = load_settings()
    print(f"embedder_model: {settings.embedder_model or '(packaged)'}", file=sys.stderr)
    out = {}
    for name in names:
        corpus = folder / R.SETS[name]
        index = open_index(corpus, settings)  # the home's embedder_model, as the build
        if not index.is_built():
            index.close()
            raise SystemExit(f"{corpus}: no built index under GREENPAIR_HOME; "
                             "build it with retrieval.py --home first")
        lex = index.lexical()
        items = R.load_set(name)
        out[name] = (lex, [gather(index, lex, it["query"]) for it in items],
                     [it["gold"] for it in items])
        index.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=R.ROOT / ".cache" / "corpora")
    parser.add_argument("--home", type=Path, default=R.ROOT / ".cache" / "bench-home")
    parser.add_argument("--sweeps", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    t0 = time.perf_counter()
    home = args.home.resolve()
    if not home.is_dir():
        parser.error(f"--home {home}: no such folder")
    os.environ["GREENPAIR_HOME"] = str(home)
    folder = R.corpora(args.corpora.resolve())
    names = list(R.SETS)

    from greenpair.core.index.search import DEFAULT, fuse
    from greenpair.core.index.search.evidence import best_first

    data = _gather_all(names, folder)
    gathered_s = time.perf_counter() - t0
    start: Params = {**DEFAULT.weights, "bonus": DEFAULT.bonus}
    silent = [sig for sig in DEFAULT.weights if not any(
        ev.files.get(sig) or ev.chunks.get(sig) for _, evs, _ in data.values() for ev in evs)]
    grids: dict[str, Sequence[float]] = {
        sig: sorted({f * w for f in FACTORS}) for sig, w in DEFAULT.weights.items()
        if sig not in silent and w > 0}
    grids["bonus"] = BONUSES

    cache: dict[tuple, Table] = {}

    def evaluate(params: Params) -> Table:
        key = tuple(sorted(params.items()))
        if key not in cache:
            weights = {sig: params[sig] for sig in DEFAULT.weights}
            ranking = replace(DEFAULT, weights=weights, bonus=params["bonus"])
            cache[key] = {name: R.metrics([[lex.paths[f] for f in best_first(fuse(lex, ev, ranking))]
                                           for ev in evs], golds)
                          for name, (lex, evs, golds) in data.items()}
        return cache[key]

    result = cross_validate(evaluate, names, start, grids, args.sweeps)
    total_s = time.perf_counter() - t0
    print(report(result, names, start))
    print(f"\nGrid: each signal's default weight times {', '.join(f'{f:g}' for f in FACTORS)};"
          f" bonus {', '.join(f'{b:g}' for b in BONUSES)}; up to {args.sweeps} sweeps from the"
          f" default. Kept at the default (no evidence): {', '.join(silent) or 'none'}.")
    print(f"{len(cache)} weightings evaluated; evidence gathered in {gathered_s:.0f} s; "
          f"total {total_s:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({
            "home": str(home), "sets": {n: len(data[n][1]) for n in names},
            "factors": FACTORS, "bonuses": BONUSES, "sweeps": args.sweeps, "silent": silent,
            "start": start, **result, "weightings": len(cache),
            "gathered_s": round(gathered_s, 1), "total_s": round(total_s, 1)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
