"""Would more evidence from what the index already holds lift retrieval? Four probes.

Issue 12 asks for R@5(any) .90 and MRR .70 on every localization set; the fusion is at
.893/.786/.827. ``retrieval.py`` shows that an oracle choosing the best signal per request
reaches only .816 on rxjs, so the gap needs new evidence, not new weights. These probes add
evidence computed from the same index at query time, each beside the default fusion:

* ``feedback``: pseudo-relevance feedback (RM-style): the 10 terms that weigh most in the
  fused top 5 files (each file's BM25 term weights scaled to sum 1), searched again over
  whole files, added at weight 0.3;
* ``size prior``: the fused score divided by ``1 + 0.05 * ln(1 + chunks / median)``, a
  file's chunks against the repository's median (long files that mention everything);
* ``file vectors``: each file's mean chunk vector (from Chroma) against the request's
  vector, added at weight 0.3;
* ``headline vector``: the dense signal split between the request's first sentence alone
  (0.3) and the whole request (0.7).

Two index-time probes are not here, as they re-embed every corpus: the embedded text led by
the file's folder and name words (``updater.embed_text``), and fp32 vectors of 256 tokens
instead of int8 of 128 (``embedder.DEFAULT_PRECISION``/``DEFAULT_MAX_TOKENS``); both were
measured by changing those lines and running ``retrieval.py --home`` on a fresh folder.

    .venv/bin/python benchmarks/evidence_probe.py [--sets pytest,rxjs,pydantic-core]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval as R

Variant = Callable[[Any, Any, Any], dict[int, float]]


def add_scaled(fused: dict[int, float], scores: dict[int, float], weight: float
               ) -> dict[int, float]:
    """``fused`` plus ``weight`` times ``scores`` scaled to a best of 1."""
    best = max(scores.values(), default=0.0)
    out = dict(fused)
    if best > 0:
        for f, s in scores.items():
            out[f] = out.get(f, 0.0) + weight * s / best
    return out


_SNAPSHOT_CACHE: dict[tuple[int, str], tuple[Any, Any]] = {}


def _per_snapshot(lex: Any, name: str, make: Any) -> Any:
    """``make()`` computed once per lexical snapshot (kept here, not written onto ``lex``)."""
    key = (id(lex), name)
    found = _SNAPSHOT_CACHE.get(key)
    if found is None or found[0] is not lex:
        found = _SNAPSHOT_CACHE[key] = (lex, make())
    return found[1]


def feedback(lex: Any, fused: dict[int, float], docs: int = 5, terms: int = 10
             ) -> dict[int, float]:
    """Whole-file BM25 of the terms that weigh most in the fused top ``docs`` files."""
    from greenpair.core.index.search.evidence import best_first, top

    rows = _per_snapshot(lex, "rows", lambda: lex.file_matrix.tocsr())  # files × terms
    picked = rows[best_first(fused)[:docs]]
    picked = picked.multiply(1.0 / np.maximum(picked.sum(axis=1), 1e-9))
    weight = np.asarray(picked.sum(axis=0)).ravel()
    ids = np.argsort(-weight)[:terms]
    ids = ids[weight[ids] > 0]
    return top(np.asarray(lex.file_matrix[:, ids] @ weight[ids]).ravel(), 100)


def size_prior(lex: Any, fused: dict[int, float], strength: float = 0.05) -> dict[int, float]:
    """Fused scores divided by a slowly growing function of a file's chunk count."""
    counts = _per_snapshot(lex, "counts", lambda: Counter(int(f) for f in lex.chunk_file))
    median = max(float(np.median([counts[f] for f in range(len(lex.paths))])), 1.0)
    return {f: s / (1 + strength * math.log1p(counts.get(f, 1) / median))
            for f, s in fused.items()}


def file_vectors(index: Any, lex: Any) -> tuple[list[int], np.ndarray]:
    """Each file's mean chunk vector (unit length), read from Chroma."""
    embeddings, metadatas = index.vectors().all_vectors()
    by_file: dict[int, list[np.ndarray]] = defaultdict(list)
    for vector, meta in zip(embeddings, metadatas, strict=True):
        f = lex.path_index.get(meta["path"])
        if f is not None:
            by_file[f].append(np.asarray(vector, dtype=np.float32))
    files = sorted(by_file)
    matrix = np.stack([np.mean(by_file[f], axis=0) for f in files])
    return files, matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=R.ROOT / ".cache" / "corpora")
    parser.add_argument("--home", type=Path, default=R.ROOT / ".cache" / "bench-home")
    parser.add_argument("--sets", default=",".join(R.SETS))
    args = parser.parse_args()
    os.environ["GREENPAIR_HOME"] = str(args.home.resolve())
    folder = R.corpora(args.corpora.resolve())

    from greenpair.core.index import open_index
    from greenpair.core.index.search import DEFAULT, fuse, fusion, gather
    from greenpair.core.index.search.dense import dense_scores
    from greenpair.core.index.search.evidence import best_first
    from greenpair.core.index.search.query import clean_query, headline

    split = replace(DEFAULT, weights={**DEFAULT.weights, "dense": 0.7, "headline": 0.3})
    variants: dict[str, Variant] = {
        "(the default)": lambda index, lex, ev: fuse(lex, ev, DEFAULT),
        "feedback": lambda index, lex, ev: add_scaled(
            fuse(lex, ev, DEFAULT), feedback(lex, fuse(lex, ev, DEFAULT)), 0.3),
        "size prior": lambda index, lex, ev: size_prior(lex, fuse(lex, ev, DEFAULT)),
        "file vectors": lambda index, lex, ev: add_scaled(
            fuse(lex, ev, DEFAULT), ev.files["file vectors"], 0.3),
        "headline vector": lambda index, lex, ev: fuse(lex, ev, split),
    }
    names = args.sets.split(",")
    rows: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for name in names:
        items = R.load_set(name)
        corpus = folder / R.SETS[name]
        R.build(corpus, args.home.resolve(), rebuild=False, dense=True)
        index = open_index(corpus)
        lex = index.lexical()
        files, matrix = file_vectors(index, lex)
        embedder = index.embedder()
        evidence = []
        for it in items:
            ev = gather(index, lex, it["query"])
            request = clean_query(it["query"])
            cos = matrix @ embedder.embed([headline(request) + "\n" + request])[0]
            ev.files["file vectors"] = {files[i]: float(cos[i]) for i in np.argsort(-cos)[:100]
                                        if cos[i] > 0}
            ev.files["headline"] = fusion.per_file(  # chunk cosines to file scores
                lex, dense_scores(index, lex, headline(request), 400), DEFAULT.bonus)
            evidence.append(ev)
        golds = [it["gold"] for it in items]
        for label, variant in variants.items():
            ranked = [[lex.paths[f] for f in best_first(variant(index, lex, ev))]
                      for ev in evidence]
            rows[label][name] = R.metrics(ranked, golds)
        index.close()
    print("R@5(any) / MRR per set (changelog paths removed, as in retrieval.py)")
    print("| probe | " + " | ".join(names) + " | mean |")
    print("|---|" + "---|" * (len(names) + 1))
    for label, per_set in rows.items():
        cells = [per_set[n] for n in names] + [R.mean([per_set[n] for n in names])]
        print(f"| {label} | " + " | ".join(f"{c['R@5 any']:.3f} / {c['MRR']:.3f}"
                                          for c in cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
