"""Does the local model, reading a map of the repository, find files the fusion misses?

``retrieval.py`` shows that the fused top 20 holds a gold file for only .835 of the rxjs
requests, so a reranker of the top 20 cannot reach issue 12's R@5 .90 there: new evidence
must come from outside the fused ranking. This probe asks the local model for it. Its prompt
holds a map of the repository's source files (folder, then file names: the fixed head, kept
in the KV cache between requests) and then the request; the model names up to six files or
definitions it would change. Its reply, searched as a request of its own over names and
paths (the ``symbol``, ``qualified`` and ``path`` signals) and over whole files (BM25), is one
more signal of the fusion at weight ``w``.

Printed per ``w``: R@5(any) and MRR per set and their mean beside the fusion alone (w = 0),
with the model's seconds and joules per request (the product's energy meter; estimated
where there is no sensor).

    nice .venv/bin/python benchmarks/expand_probe.py [--per-set 40] [--sets ...]
        [--model qwen2.5-coder-1.5b] [--threads 2] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval as R

WEIGHTS = (0.0, 0.3, 0.5, 1.0, 2.0)
MAP_TOKENS = 2800  # the map is cut at about this many tokens (4 characters each)
SYSTEM = ("You are a senior developer who knows this repository well. Its source files, "
          "by folder:\n{map}\n\nGiven a change request, you name the source files and the "
          "functions or classes it most likely changes.")


def repo_map(lex: Any) -> str:
    """Source files by folder (``folder: name, name``), folders in path order, whole lines
    up to about ``MAP_TOKENS`` tokens."""
    from greenpair.core.index import categories

    by_folder: dict[str, list[str]] = defaultdict(list)
    for path in lex.paths:
        if categories.category(path) == categories.SOURCE:
            folder, _, name = path.rpartition("/")
            by_folder[folder or "."].append(name)
    kept: list[str] = []
    budget = MAP_TOKENS * 4
    for folder, names in sorted(by_folder.items()):
        line = f"{folder}: {', '.join(sorted(names))}"
        budget -= len(line) + 1
        if budget < 0:
            break
        kept.append(line)
    return "\n".join(kept)


def ask(rt: Any, system: str, request: str) -> str:
    from greenpair.core.llm.runtime import Message

    request = request.strip()
    if len(request) > 600:
        request = request[:600] + "…"
    messages = [Message("system", system),
                Message("user", f"Change request:\n{request}\n\nAnswer with at most six file "
                                "or definition names, comma-separated, nothing else.")]
    return "".join(rt.stream_chat(messages, max_tokens=48, temperature=0.0, stop=("\n\n",)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=R.ROOT / ".cache" / "corpora")
    parser.add_argument("--home", type=Path, default=R.ROOT / ".cache" / "bench-home")
    parser.add_argument("--sets", default=",".join(R.SETS))
    parser.add_argument("--per-set", type=int, default=40)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    os.environ["GREENPAIR_HOME"] = str(args.home.resolve())
    folder = R.corpora(args.corpora.resolve())

    from greenpair.core.energy.meter import Meter
    from greenpair.core.index import open_index
    from greenpair.core.index.search import DEFAULT, best_first, fuse, gather, names
    from greenpair.core.index.search.evidence import top
    from greenpair.core.llm.manager import open_runtime

    rt = open_runtime(args.model, n_threads=args.threads, seed=0, n_ctx=4096)
    meter = Meter()
    rt.load()
    seconds: list[float] = []
    joules: list[float] = []
    estimated = False
    results: dict[str, list[dict[str, Any]]] = {}
    for name in args.sets.split(","):
        items = R.load_set(name)
        step = max(1, len(items) // args.per_set)
        items = items[::step][:args.per_set]
        corpus = folder / R.SETS[name]
        R.build(corpus, args.home.resolve(), rebuild=False, dense=True)
        index = open_index(corpus)
        lex = index.lexical()
        system = SYSTEM.format(map=repo_map(lex))
        print(f"{name}: map of {len(rt.tokenize(system))} tokens", flush=True)
        rows = []
        for it in items:
            ev = gather(index, lex, it["query"])
            t0 = time.perf_counter()
            with meter.window("expand", model=rt.model_id) as window:
                reply = ask(rt, system, it["query"])
            seconds.append(time.perf_counter() - t0)
            if window.report is not None and window.report.joules is not None:
                joules.append(window.report.joules)
                estimated = estimated or bool(window.report.estimated)
            words = reply.replace(",", " ")
            found: dict[int, float] = defaultdict(float)
            for signal in (names.symbol_scores(lex, words)[0], names.path_scores(lex, words),
                           names.qualified_scores(lex, words)[0],
                           top(lex.file_scores(words), 100)):
                best = max(signal.values(), default=0.0)
                for f, s in signal.items():
                    found[f] += s / best if best else 0.0
            ev.files["expansion"] = dict(found)
            rows.append((it, ev, reply))
        results[name] = []
        for w in WEIGHTS:
            ranking = replace(DEFAULT, weights={**DEFAULT.weights, "expansion": w})
            ranked = [[lex.paths[f] for f in best_first(fuse(lex, ev, ranking))]
                      for _, ev, _ in rows]
            results[name].append(R.metrics(ranked, [it["gold"] for it, _, _ in rows]))
        for it, _, reply in rows[:8]:
            print(f"  {it['query'][:70]!r} -> {reply.strip()[:90]!r} (gold {it['gold'][0]})")
        index.close()
    rt.unload()
    energy = statistics.median(joules) if joules else float("nan")
    print(f"\n{args.model}, {args.threads} threads; model per request: median "
          f"{statistics.median(seconds):.2f} s, {'~' if estimated else ''}{energy:.1f} J")
    sets = list(results)
    print("| w | " + " | ".join(sets) + " | mean |")
    print("|---|" + "---|" * (len(sets) + 1))
    for i, w in enumerate(WEIGHTS):
        cells = [results[n][i] for n in sets]
        cells.append(R.mean(cells))
        print(f"| {w:g} | " + " | ".join(f"{c['R@5 any']:.3f} / {c['MRR']:.3f}" for c in cells)
              + " |")
    if args.json:
        args.json.write_text(json.dumps({"seconds": seconds, "joules": joules,
                                         "results": results}))


if __name__ == "__main__":
    main()
