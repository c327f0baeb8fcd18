"""The history signal on a real repository with history: its own past commits.

Queries are the repository's non-merge commits that changed 1-3 existing code files
(the message's first 600 characters; gold = those files). The index is the current tree
(lexical only); for each query, the history evidence uses only the commits older than
it, so a commit never finds itself. Prints R@1/5/10(any) and MRR with and without the
history signal, in the same run.

    python benchmarks/history.py [REPO] [--limit N]   # default: this repository
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))


def _queries(repo: Path, history: object, paths: set[str], limit: int) -> list[tuple]:
    from greenpair.core.index import categories

    out = []
    for i, sha in enumerate(history.commits):  # newest first
        files = [f for f in history.files[i] if f in paths]
        code = [f for f in files if categories.category(f) == categories.SOURCE]
        if not 1 <= len(code) <= 3 or len(code) != len(
                [f for f in history.files[i] if categories.category(f) == categories.SOURCE]):
            continue
        message = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%B", sha],
                                 capture_output=True, text=True, check=True).stdout
        out.append((message.strip()[:600], code, i + 1))
        if len(out) >= limit:
            break
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", type=Path, nargs="?", default=ROOT)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    os.environ["GREENPAIR_HOME"] = tempfile.mkdtemp(prefix="greenpair-history-")

    from greenpair.core.index import open_index
    from greenpair.core.index.search import DEFAULT, fuse, gather
    from greenpair.core.index.search.evidence import best_first
    from greenpair.core.index.search.git_log import history_scores, load

    index = open_index(args.repo)
    for _ in index.update(embed=False):
        pass
    lex = index.lexical()
    history = load(index.repo)
    if history is None:
        print(f"{args.repo} has no git history")
        return 1
    queries = _queries(index.repo, history, set(lex.paths), args.limit)
    without = replace(DEFAULT, weights={**DEFAULT.weights, "history": 0.0})
    rankings: dict[str, list[tuple[list[str], list[str]]]] = {"without history": [],
                                                               "with history": []}
    started = time.perf_counter()
    for message, gold, skip in queries:
        ev = gather(index, lex, message, dense=False)
        ev.files["history"] = history_scores(history, lex, message, skip=skip)
        for name, ranking in (("without history", without), ("with history", DEFAULT)):
            fused = fuse(lex, ev, ranking)
            rankings[name].append(([lex.paths[f] for f in best_first(fused)], gold))
    elapsed = (time.perf_counter() - started) / max(len(queries), 1) * 1000
    print(f"{index.repo}: {len(history.commits)} commits read, {len(queries)} queries "
          f"(commits changing 1-3 code files), lexical index; {elapsed:.0f} ms/query")
    print("| ranking | R@1 any | R@5 any | R@10 any | MRR |\n|---|---|---|---|---|")
    for name, pairs in rankings.items():
        cells = []
        for k in (1, 5, 10):
            cells.append(sum(bool(set(g) & set(r[:k])) for r, g in pairs) / len(pairs))
        rr = []
        for r, g in pairs:
            ranks = [i for i, p in enumerate(r) if p in g]
            rr.append(1 / (ranks[0] + 1) if ranks else 0.0)
        cells.append(sum(rr) / len(rr))
        print(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
