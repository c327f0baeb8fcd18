"""Retrieval quality on the three localization sets, in one run, with one setting.

For each set (pytest 9.0.2, rxjs 7.8.2, pydantic-core 2.41.5; ``../shared/bench/``):
Greenpair's search against a whole-file BM25 baseline (k1=1.2, b=0.75, document = path +
content, identifiers split on snake_case/camelCase with the whole kept, as in the sets'
README), with changelog paths removed from both rankings. Prints R@1/5/10 (all, any) and
MRR per set and their mean, an ablation table (each signal or stage removed in turn:
R@5(any)/MRR per set), how far the evidence goes (the share of requests with a gold file in
the top 5 of at least one signal: an oracle choosing the best signal per request; and in the
fused top 20: the most a reranker of the top 20 can bring into its top 5), search ms/query,
and per corpus the index time and peak RSS of a build from scratch (each corpus indexed in
its own process).

Indexes are cached under ``--home`` (default ``.cache/bench-home``) and only refreshed
between runs: the signals are query-time, so trying a ranking never re-embeds.
``--rebuild`` builds them from scratch (and times that).

    python benchmarks/retrieval.py [--corpora DIR] [--sets pytest,rxjs] [--rebuild]
        [--no-dense] [--no-ablation] [--limit N] [--json FILE] [--query-adapter NPZ]
        [--weight SIGNAL=W ...] [--only SIGNAL ...]

``--weight dense=1.5`` adds a row to the ablation table: the default fusion with that
signal's weight changed (to see whether another embedder's evidence deserves another
weight; a weight is kept only if it raises the mean over the sets); ``--only dense`` adds
one ranked by that signal alone (how good an embedder is by itself).

``--query-adapter`` maps each request's vector by a trained adapter (``u``, ``v`` in the
file: ``q + (q u) v``, normalised; ``train_embedder.py``) before the nearest chunks are
looked up; the chunk vectors are the index's own.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
# ``../shared/`` beside the repository (a worktree one level deeper looks one level up)
SHARED = next((p / "shared" / "bench" for p in (ROOT.parent, ROOT.parent.parent)
               if (p / "shared" / "bench").is_dir()), ROOT.parent / "shared" / "bench")
SETS = {"pytest": "pytest-9.0.2", "rxjs": "rxjs-7.8.2", "pydantic-core": "pydantic-core-2.41.5"}
CHANGELOG = re.compile(r"(?i)(^|/)(changelogs?/|changelog[^/]*$|changes[^/]*$)")
COLUMNS = ["R@1 all", "R@1 any", "R@5 all", "R@5 any", "R@10 all", "R@10 any", "MRR"]


def corpora(folder: Path) -> Path:
    """The corpora folder, fetched once with ``get-corpora.sh`` when a corpus is missing."""
    if not all((folder / name).is_dir() for name in SETS.values()):
        subprocess.run(["bash", str(SHARED / "get-corpora.sh"), str(folder)], check=True,
                       stdout=subprocess.DEVNULL)
    return folder


def load_set(name: str) -> list[dict]:
    path = SHARED / "localization" / f"{SETS[name]}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- whole-file BM25 baseline ---------------------------------------------------------
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def bm25_tokens(text: str) -> list[str]:
    out = []
    for ident in _IDENT.findall(text):
        parts = [p.lower() for piece in ident.split("_") for p in _CAMEL.findall(piece)]
        out.extend(parts)
        if len(parts) > 1:
            out.append(ident.lower())
    return out


def read_corpus(root: Path) -> dict[str, str]:
    docs = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            data = path.read_bytes()
            if b"\0" in data:
                continue
            try:
                docs[path.relative_to(root).as_posix()] = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
    return docs


class BM25:
    def __init__(self, docs: dict[str, str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.paths = sorted(docs)
        self.tf = [Counter(bm25_tokens(p + "\n" + docs[p])) for p in self.paths]
        self.len = [sum(c.values()) for c in self.tf]
        self.avg = sum(self.len) / len(self.len)
        df: Counter[str] = Counter()
        for c in self.tf:
            df.update(c.keys())
        n = len(self.paths)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.postings: dict[str, list[int]] = {}
        for i, c in enumerate(self.tf):
            for t in c:
                self.postings.setdefault(t, []).append(i)

    def rank(self, query: str) -> list[str]:
        q = Counter(t for t in bm25_tokens(query) if t in self.idf)
        scores: dict[int, float] = {}
        for t, qn in q.items():
            for i in self.postings[t]:
                f = self.tf[i][t]
                norm = self.k1 * (1 - self.b + self.b * self.len[i] / self.avg)
                scores[i] = scores.get(i, 0.0) + qn * self.idf[t] * f * (self.k1 + 1) / (f + norm)
        return [self.paths[i] for i in sorted(scores, key=lambda i: (-scores[i], i))]


# -- metrics -----------------------------------------------------------------------
def metrics(rankings: list[list[str]], golds: list[list[str]]) -> dict[str, float]:
    rankings = [[p for p in r if not CHANGELOG.search(p)] for r in rankings]
    out: dict[str, float] = {}
    n = len(golds)
    pairs = list(zip(rankings, golds, strict=True))
    for k in (1, 5, 10):
        out[f"R@{k} all"] = sum(set(g) <= set(r[:k]) for r, g in pairs) / n
        out[f"R@{k} any"] = sum(bool(set(g) & set(r[:k])) for r, g in pairs) / n
    rr = []
    for r, g in pairs:
        ranks = [i for i, p in enumerate(r) if p in g]
        rr.append(1.0 / (ranks[0] + 1) if ranks else 0.0)
    out["MRR"] = sum(rr) / n
    return out


def mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {c: sum(r[c] for r in rows) / len(rows) for c in rows[0]}


def build(corpus: Path, home: Path, *, rebuild: bool, dense: bool) -> dict:
    """Index one corpus in its own process (its peak RSS is the corpus's own)."""
    cmd = [sys.executable, str(ROOT / "benchmarks" / "localization_index.py"), str(corpus)]
    cmd += ["--rebuild"] * rebuild + ["--no-dense"] * (not dense)
    env = {**os.environ, "GREENPAIR_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ceilings(lex: Any, evidence: list, golds: list[list[str]], fused_top: list[list[str]]
             ) -> dict[str, float]:
    """How far the evidence goes: the share of requests with a gold file in the top 5 of at
    least one signal (what an oracle choosing the best signal per request would reach),
    and in the fused top 20 (the most a reranker of the top 20 can bring into its top
    5)."""
    from greenpair.core.index.search import DEFAULT
    from greenpair.core.index.search.evidence import best_first
    from greenpair.core.index.search.fusion import file_evidence

    some5 = top20 = 0
    for ev, gold, fused in zip(evidence, golds, fused_top, strict=True):
        wanted = {lex.path_index[g] for g in gold if g in lex.path_index}
        some5 += any(f in wanted for scores in file_evidence(lex, ev, DEFAULT).values()
                     for f in best_first(scores)[:5])
        top20 += bool(set(gold) & set(fused[:20]))
    n = len(golds)
    return {"oracle": some5 / n, "top20": top20 / n}


class _AdaptedQueries:
    """The index's embedder with a query adapter applied to what it embeds (this
    process embeds only requests: the index is built in another)."""

    def __init__(self, base: Any, path: Path) -> None:
        import numpy as np

        data = np.load(path)
        self.base, self.u, self.v = base, data["u"], data["v"]
        self.name = base.name

    def embed(self, texts: list[str]) -> Any:
        import numpy as np

        q = self.base.embed(texts)
        q = q + (q @ self.u) @ self.v
        return q / np.linalg.norm(q, axis=1, keepdims=True)


def ablations() -> dict[str, object]:
    from greenpair.core.index.search import DEFAULT, SIGNALS

    out: dict[str, object] = {"(none: the default)": DEFAULT}
    for signal in SIGNALS:
        if DEFAULT.weights.get(signal, 0) > 0:
            out[signal] = replace(DEFAULT, weights={**DEFAULT.weights, signal: 0.0})
    for stage, change in DEFAULT.stages().items():
        out[stage] = replace(DEFAULT, **change)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=ROOT / ".cache" / "corpora")
    parser.add_argument("--home", type=Path, default=ROOT / ".cache" / "bench-home")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--rebuild", action="store_true", help="index from scratch")
    parser.add_argument("--no-dense", action="store_true", help="lexical signals only")
    parser.add_argument("--no-ablation", action="store_true")
    parser.add_argument("--limit", type=int, help="first N queries of each set")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--query-adapter", type=Path, help="adapter.npz for request vectors")
    parser.add_argument("--weight", action="append", default=[], metavar="SIGNAL=W",
                        help="also rank with this signal's weight changed (repeatable)")
    parser.add_argument("--only", action="append", default=[], metavar="SIGNAL",
                        help="also rank by this signal alone, intent kept (repeatable)")
    args = parser.parse_args()

    home = args.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["GREENPAIR_HOME"] = str(home)
    folder = corpora(args.corpora.resolve())
    names = args.sets.split(",")

    from greenpair.core.config import load_settings
    from greenpair.core.index import open_index
    from greenpair.core.index.search import DEFAULT, fuse, gather
    from greenpair.core.index.search.evidence import best_first

    settings = load_settings()
    if settings.embedder_model:
        print(f"embedder_model: {settings.embedder_model}", file=sys.stderr)
    variants = {"(none: the default)": DEFAULT} if args.no_ablation else ablations()
    for change in args.weight:
        signal, _, value = change.partition("=")
        if signal not in DEFAULT.weights:
            parser.error(f"--weight {change}: no signal {signal!r}; the signals are "
                         + ", ".join(DEFAULT.weights))
        try:
            weight = float(value)
        except ValueError:
            parser.error(f"--weight {change}: the weight must be a number, e.g. {signal}=1.5")
        variants[f"{signal} weight {weight:g}"] = replace(
            DEFAULT, weights={**DEFAULT.weights, signal: weight})
    for signal in args.only:
        if signal not in DEFAULT.weights:
            parser.error(f"--only {signal}: no such signal; the signals are "
                         + ", ".join(DEFAULT.weights))
        variants[f"{signal} alone"] = replace(
            DEFAULT, weights={name: float(name == signal) for name in DEFAULT.weights})
    report: dict[str, dict] = {}
    for name in names:
        corpus = folder / SETS[name]
        items = load_set(name)[: args.limit]
        golds = [it["gold"] for it in items]
        built = build(corpus, home, rebuild=args.rebuild, dense=not args.no_dense)
        t0 = time.perf_counter()
        bm25 = BM25(read_corpus(corpus))
        bm25_s = time.perf_counter() - t0
        bm25_rankings = [bm25.rank(it["query"]) for it in items]
        index = open_index(corpus, settings)  # the home's embedder_model, as the build
        if args.query_adapter:
            index._embedder = _AdaptedQueries(index.embedder(), args.query_adapter)
        lex = index.lexical()
        gather(index, lex, "warm up the embedder", dense=not args.no_dense)
        t0 = time.perf_counter()
        evidence = []
        for it in items:
            ev = gather(index, lex, it["query"], dense=not args.no_dense)
            fuse(lex, ev, DEFAULT)
            evidence.append(ev)
        search_ms = (time.perf_counter() - t0) / len(items) * 1000
        rows = {"BM25 whole files": metrics(bm25_rankings, golds)}
        for variant, ranking in variants.items():
            ranked = []
            for ev in evidence:
                fused = fuse(lex, ev, ranking)
                ranked.append([lex.paths[f] for f in best_first(fused)])
            rows[variant] = metrics(ranked, golds)
            if ranking is DEFAULT:
                kept = [[p for p in r if not CHANGELOG.search(p)] for r in ranked]
                bounds = ceilings(lex, evidence, golds, kept)
        index.close()
        report[name] = {"rows": rows, "search_ms": search_ms, "build": built,
                        "bm25_index_s": bm25_s, "queries": len(items), "bounds": bounds}
    _print(report, names, variants)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


def _print(report: dict[str, dict], names: list[str], variants: dict[str, object]) -> None:
    default = "(none: the default)"
    print("Changelog paths removed from every ranking (the sets' README method).")
    for name in names:
        r = report[name]
        print(f"\n{SETS[name]} ({r['queries']} queries)")
        print(f"| method | {' | '.join(COLUMNS)} |")
        print("|---|" + "---|" * len(COLUMNS))
        for label, key in (("BM25 whole files", "BM25 whole files"), ("Greenpair", default)):
            m = r["rows"][key]
            print(f"| {label} | " + " | ".join(f"{m[c]:.3f}" for c in COLUMNS) + " |")
    print("\nMean over sets")
    print(f"| method | {' | '.join(COLUMNS)} |")
    print("|---|" + "---|" * len(COLUMNS))
    for label, key in (("BM25 whole files", "BM25 whole files"), ("Greenpair", default)):
        m = mean([report[n]["rows"][key] for n in names])
        print(f"| {label} | " + " | ".join(f"{m[c]:.3f}" for c in COLUMNS) + " |")
    if len(variants) > 1:
        print("\nAblation: one signal or stage removed (or a --weight changed) -> R@5(any) / MRR")
        print("| removed | " + " | ".join(names) + " | mean |")
        print("|---|" + "---|" * (len(names) + 1))
        for variant in variants:
            cells = [report[n]["rows"][variant] for n in names]
            m = mean(cells)
            print(f"| {variant} | " + " | ".join(
                f"{c['R@5 any']:.3f} / {c['MRR']:.3f}" for c in [*cells, m]) + " |")
    print("\nHow far the evidence goes: requests with a gold file in the fused top 5 (R@5 any),"
          " in the top 5 of at least one signal, in the fused top 20")
    print("| set | R@5 any | best signal per request, top 5 (an oracle) "
          "| fused top 20 (a top-20 reranker's most) |")
    print("|---|---|---|---|")
    for name in names:
        b = report[name]["bounds"]
        print(f"| {name} | {report[name]['rows'][default]['R@5 any']:.3f} | "
              f"{b['oracle']:.3f} | {b['top20']:.3f} |")
    print("\nSearch and index, per corpus (index: a build from scratch in its own process)")
    print("| corpus | search ms/query | files | chunks | embedded | skipped | index s "
          "| peak RSS MB | BM25 index s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        r = report[name]
        b = r["build"]
        s = b["stats"]
        skipped = ", ".join(f"{n} {k}" for k, n in s["skipped"].items())
        print(f"| {SETS[name]} | {r['search_ms']:.1f} | {s['files']} | {s['chunks']} | "
              f"{s['embedded_chunks']} | {skipped} | {b['index_s']:.1f} | "
              f"{b['peak_rss_mb']} | {r['bm25_index_s']:.1f} |")
        if s.get("generated"):
            print(f"|  generated: {json.dumps(s['generated'])} |")


if __name__ == "__main__":
    raise SystemExit(main())
