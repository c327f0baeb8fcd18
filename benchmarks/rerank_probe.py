"""Does the local model, reading the top files' paths and definitions, rank them better?

Issue 12's third idea, measured before it is built into search: for a slice of each
localization set, the fusion ranks the files (``index.search.gather`` + ``fuse``); the
model is shown the request and the top ``--top`` files (path and the names they define,
lettered A, B, …) and asked which one a developer would edit first. One forward pass: the
reply's first-token probabilities over the letters are the model's belief per file, no
text is generated. The prompt's fixed head stays in the KV cache between requests.

Each candidate's new score is its fusion score (scaled to a best of 1) plus ``w`` times the
model's probability; files below the top keep their order. Printed per ``w``: R@5(any) and
MRR per set and their mean, beside the fusion alone (``w`` = 0), with the model's seconds
and joules per request (the product's energy meter; estimated where there is no sensor).

    nice .venv/bin/python benchmarks/rerank_probe.py [--corpora DIR] [--per-set 40] [--top 10]
        [--sets pytest,rxjs,pydantic-core] [--model qwen2.5-coder-1.5b] [--threads 2]
        [--order fusion|alpha] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval as R

LETTERS = "ABCDEFGHIJKLMNOPQRST"
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 100.0)
SYSTEM = ("You are a senior developer who knows this repository. Given a change request "
          "and a list of files, you name the file that would be edited first.")


def describe(index: Any, path: str, limit: int = 8) -> str:
    """``path: name, name, …`` — the definitions the file holds, in order."""
    names: list[str] = []
    for chunk in index.file_chunks(path):
        name = (chunk.symbol or "").rsplit(".", 1)[-1]
        if name and name not in names:
            names.append(name)
        if len(names) >= limit:
            break
    return f"{path}: {', '.join(names)}" if names else path


def prompt_messages(query: str, files: list[str]) -> list[Any]:
    from greenpair.core.llm.runtime import Message

    request = query.strip()
    if len(request) > 600:
        request = request[:600] + "…"
    listing = "\n".join(f"{LETTERS[i]}. {f}" for i, f in enumerate(files))
    return [Message("system", SYSTEM),
            Message("user", f"Change request:\n{request}\n\nFiles:\n{listing}\n\n"
                            "Which file would a developer edit first? Answer with its letter.")]


def letter_probs(rt: Any, messages: list[Any], n: int) -> list[float]:
    """The model's probabilities of the first reply token being each of ``n`` letters."""
    import numpy as np

    llm = rt.load()
    tokens = rt.tokenize(rt.format_chat(messages), special=True)
    keep = llm.longest_token_prefix(llm._input_ids.tolist(), tokens) if llm.n_tokens else 0
    llm.n_tokens = min(keep, len(tokens) - 1)
    llm.eval(tokens[llm.n_tokens:])
    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
    ids = [rt.tokenize(LETTERS[i], special=False)[0] for i in range(n)]
    chosen = logits[ids].astype(np.float64)
    p = np.exp(chosen - chosen.max())
    return list(p / p.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=R.ROOT / ".cache" / "corpora")
    parser.add_argument("--sets", default=",".join(R.SETS))
    parser.add_argument("--per-set", type=int, default=40)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--order", choices=("fusion", "alpha"), default="fusion",
                        help="List the candidates in fusion order or by path (the model "
                             "may favour the first letters).")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    corpora = R.corpora(args.corpora.resolve())  # fetched once when missing

    from greenpair.core.energy.meter import Meter
    from greenpair.core.index import open_index
    from greenpair.core.index.search import best_first, fuse, gather
    from greenpair.core.index.search.fusion import DEFAULT
    from greenpair.core.llm.manager import open_runtime

    rt = open_runtime(args.model, n_threads=args.threads, seed=0, n_ctx=4096)
    meter = Meter()
    rt.load()
    rows: dict[str, list[dict[str, Any]]] = {}
    seconds: list[float] = []
    joules: list[float] = []
    estimated = False
    for name in args.sets.split(","):
        folder = R.SETS[name]
        items = R.load_set(name)
        step = max(1, len(items) // args.per_set)
        items = items[::step][:args.per_set]
        index = open_index(corpora / folder)
        for _ in index.update():
            pass
        lex = index.lexical()
        rows[name] = []
        for it in items:
            fused = fuse(lex, gather(index, lex, it["query"]), DEFAULT)
            order = [f for f in best_first(fused) if not R.CHANGELOG.search(lex.paths[f])]
            top = order[:args.top]
            files = [lex.paths[f] for f in top]
            shown = sorted(files) if args.order == "alpha" else files
            messages = prompt_messages(it["query"], [describe(index, p) for p in shown])
            t0 = time.perf_counter()
            with meter.window("rerank", model=rt.model_id) as window:
                by_shown = dict(zip(shown, letter_probs(rt, messages, len(shown)), strict=True))
            probs = [by_shown[f] for f in files]
            seconds.append(time.perf_counter() - t0)
            report = window.report
            if report is not None and report.joules is not None:
                joules.append(report.joules)
                estimated = estimated or bool(report.estimated)
            best = max(fused[f] for f in top) or 1.0
            rows[name].append({"id": it["id"], "gold": it["gold"], "files": files,
                               "fused": [fused[f] / best for f in top], "probs": probs,
                               "rest": [lex.paths[f] for f in order[args.top:args.top + 50]]})
        index.close()
        print(f"{name}: {len(rows[name])} requests", flush=True)
    rt.unload()

    print(f"\n{args.model}, {args.threads} threads, top {args.top} listed in {args.order} "
          "order; model per request: median "
          f"{statistics.median(seconds):.2f} s, "
          f"{'~' if estimated else ''}{statistics.median(joules) if joules else float('nan'):.1f} J")
    print(f"{'w':>7}  " + "  ".join(f"{n:>16}" for n in rows) + f"  {'mean':>13}")
    for w in WEIGHTS:
        cells, r5s, mrrs = [], [], []
        for rs in rows.values():
            ranked = []
            for r in rs:
                score = [f + w * p for f, p in zip(r["fused"], r["probs"], strict=False)]
                picked = [r["files"][i] for i in sorted(range(len(score)),
                                                        key=lambda i: -score[i])]
                ranked.append(picked + r["rest"])
            m = R.metrics(ranked, [r["gold"] for r in rs])
            r5s.append(m["R@5 any"])
            mrrs.append(m["MRR"])
            cells.append(f"{m['R@5 any']:.3f} / {m['MRR']:.3f}")
        label = "model" if w >= 100 else f"{w:g}"
        print(f"{label:>7}  " + "  ".join(f"{c:>16}" for c in cells)
              + f"  {statistics.mean(r5s):.3f} / {statistics.mean(mrrs):.3f}")
    if args.json:
        args.json.write_text(json.dumps({"seconds": seconds, "joules": joules, "rows": rows}))


if __name__ == "__main__":
    main()
