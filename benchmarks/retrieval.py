"""Retrieval quality and index time on the pytest 9.0.2 localization set.

Greenpair (hybrid search through ``RepoIndex``) against, in the same run:

* a whole-file BM25 baseline (k1=1.2, b=0.75, document = path + content, identifiers split
  on snake_case/camelCase with the whole identifier kept), as in the set's README;
* for index time, a naive dense index: 60-line chunks of every file with the path
  prepended, embedded by sentence-transformers (torch) in file order (``--skip-naive``
  leaves it out; it takes minutes).

Prints R@1/5/10 (all and any) and MRR with changelog paths removed from both rankings,
and again with every non-source file removed (the set README's definition), plus index
times and peak RSS.

    python benchmarks/retrieval.py [--corpus DIR] [--queries FILE] [--skip-naive]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
DEFAULT_QUERIES = ROOT.parent / "shared" / "bench" / "localization" / "pytest-9.0.2.jsonl"
CHANGELOG = re.compile(r"(?i)(^|/)(changelogs?/|changelog[^/]*$|changes[^/]*$)")
_NON_SOURCE_DIRS = re.compile(
    r"(^|/)(test|tests|testing|doc|docs|changelog|\.github|ci|examples|bench|scripts|fuzz)/"
)
_NON_SOURCE_NAMES = re.compile(r"^(test_.*\.py|.*_test\.py|conftest\.py|setup\.py|noxfile\.py)$")


def is_source(path: str) -> bool:
    """The set README's "source file": a .py file outside test/doc/... directories."""
    name = path.rsplit("/", 1)[-1]
    return (
        path.endswith(".py")
        and not _NON_SOURCE_DIRS.search(path)
        and not _NON_SOURCE_NAMES.match(name)
    )


def fetch_corpus() -> Path:
    """The pytest 9.0.2 sdist, downloaded once into Greenpair's cache directory."""
    from greenpair.core.config import cache_dir

    folder = cache_dir() / "bench"
    corpus = folder / "sdist" / "pytest-9.0.2"
    if corpus.is_dir():
        return corpus
    sdist = folder / "sdist"
    sdist.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "pytest==9.0.2", "-d", str(sdist)],
        check=True,
    )
    with tarfile.open(sdist / "pytest-9.0.2.tar.gz") as tar:
        tar.extractall(sdist, filter="data")
    return corpus


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
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            docs[path.relative_to(root).as_posix()] = text
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

    def rank(self, query: str) -> list[str]:
        q = Counter(t for t in bm25_tokens(query) if t in self.idf)
        scores = []
        for i, tf in enumerate(self.tf):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * self.len[i] / self.avg)
            for t, qn in q.items():
                f = tf.get(t)
                if f:
                    s += qn * self.idf[t] * f * (self.k1 + 1) / (f + norm)
            scores.append(s)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        return [self.paths[i] for i in order if scores[i] > 0]


# -- metrics -----------------------------------------------------------------------
def metrics(rankings: list[list[str]], golds: list[list[str]]) -> dict[str, float]:
    out: dict[str, float] = {}
    n = len(golds)
    for k in (1, 5, 10):
        out[f"R@{k} all"] = sum(set(g) <= set(r[:k]) for r, g in zip(rankings, golds, strict=True)) / n
        out[f"R@{k} any"] = sum(bool(set(g) & set(r[:k])) for r, g in zip(rankings, golds, strict=True)) / n
    rr = []
    for r, g in zip(rankings, golds, strict=True):
        ranks = [i for i, p in enumerate(r) if p in g]
        rr.append(1.0 / (ranks[0] + 1) if ranks else 0.0)
    out["MRR"] = sum(rr) / n
    return out


COLUMNS = ["R@1 all", "R@1 any", "R@5 all", "R@5 any", "R@10 all", "R@10 any", "MRR"]


def print_table(title: str, rows: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"| method | {' | '.join(COLUMNS)} |")
    print("|---|" + "---|" * len(COLUMNS))
    for name, m in rows.items():
        print(f"| {name} | " + " | ".join(f"{m[c]:.3f}" for c in COLUMNS) + " |")


def evaluate(rankings: dict[str, list[list[str]]], golds: list[list[str]]) -> None:
    no_changelog = {
        name: [[p for p in r if not CHANGELOG.search(p)] for r in rs]
        for name, rs in rankings.items()
    }
    print_table("Changelog paths removed from both rankings:",
                {n: metrics(r, golds) for n, r in no_changelog.items()})
    source_only = {
        name: [[p for p in r if is_source(p)] for r in rs] for name, rs in rankings.items()
    }
    print_table("Every non-source file (tests, docs, config) removed from both rankings:",
                {n: metrics(r, golds) for n, r in source_only.items()})


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def naive_dense(docs: dict[str, str], queries: list[str]) -> tuple[float, list[list[str]]]:
    """60-line chunks of every file, path prepended, torch, embedded in file order."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from greenpair.core.index.onnx_export import source_dir

    started = time.perf_counter()
    model = SentenceTransformer(str(source_dir()), device="cpu")
    texts, owners = [], []
    for path in sorted(docs):
        lines = docs[path].splitlines()
        for i in range(0, max(len(lines), 1), 60):
            texts.append(path + "\n" + "\n".join(lines[i : i + 60]))
            owners.append(path)
    vectors = []
    for i in range(0, len(texts), 32):  # one call per batch: no global length sort
        vectors.append(model.encode(texts[i : i + 32], batch_size=32,
                                    normalize_embeddings=True, show_progress_bar=False))
    matrix = np.concatenate(vectors)
    elapsed = time.perf_counter() - started
    print(f"naive dense: {len(texts)} chunks embedded in {elapsed:.1f} s")
    qv = model.encode(queries, normalize_embeddings=True, show_progress_bar=False)
    rankings = []
    for sims in qv @ matrix.T:
        best: dict[str, float] = {}
        for owner, s in zip(owners, sims, strict=True):
            best[owner] = max(best.get(owner, -1.0), float(s))
        rankings.append(sorted(best, key=lambda p: -best[p]))
    return elapsed, rankings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="corpus root (default: fetch the sdist)")
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--skip-naive", action="store_true", help="skip the naive dense baseline")
    parser.add_argument("--precision", default=None, help="embedding precision: fp32 or int8")
    parser.add_argument("--max-tokens", type=int, default=None, help="embedding truncation")
    parser.add_argument("--embed-policy", default="source", choices=["source", "code", "all"])
    parser.add_argument("--no-dense", action="store_true", help="lexical signals only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    # A private data directory: the index is built from scratch and timed.
    home = tempfile.mkdtemp(prefix="greenpair-bench-")
    from greenpair.core import config

    real_models = config.models_dir()
    corpus = (args.corpus or fetch_corpus()).resolve()
    os.environ["GREENPAIR_HOME"] = home
    os.symlink(real_models, Path(home) / "models")

    from greenpair.core.index import embedder, open_index

    items = [json.loads(line) for line in args.queries.read_text().splitlines() if line.strip()]
    queries = [it["query"] for it in items]
    golds = [it["gold"] for it in items]

    t0 = time.perf_counter()
    docs = read_corpus(corpus)
    bm25 = BM25(docs)
    bm25_time = time.perf_counter() - t0
    bm25_rankings = [bm25.rank(q) for q in queries]

    precision = args.precision or embedder.DEFAULT_PRECISION
    max_tokens = args.max_tokens or embedder.DEFAULT_MAX_TOKENS
    t0 = time.perf_counter()
    index = open_index(
        corpus, precision=precision, max_tokens=max_tokens, embed_policy=args.embed_policy
    )
    phases: dict[str, float] = {}
    last = time.perf_counter()
    for event in index.update(embed=not args.no_dense):
        now = time.perf_counter()
        phases[event.phase] = phases.get(event.phase, 0.0) + now - last
        last = now
    gp_time = time.perf_counter() - t0
    gp_rss = peak_rss_mb()
    stats = index.stats()
    t0 = time.perf_counter()
    gp_rankings = [index.search(q, k=1000).files for q in queries]
    search_ms = (time.perf_counter() - t0) / len(queries) * 1000

    print(f"corpus: {corpus} ({len(docs)} text files); queries: {args.queries} ({len(items)})")
    print(f"Greenpair: {stats['files']} files, {stats['chunks']} chunks, "
          f"{stats['embedded_chunks']} embedded ({precision}, {max_tokens} tokens, policy "
          f"{args.embed_policy}); "
          f"skipped {stats['skipped']}")
    print("Greenpair index phases (s): " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
    rankings = {"BM25 whole files": bm25_rankings, "Greenpair": gp_rankings}
    naive_time = None
    if not args.skip_naive:
        naive_time, naive_rankings = naive_dense(docs, queries)
        rankings["naive dense (MiniLM 60-line)"] = naive_rankings
    evaluate(rankings, golds)
    print("\nIndex time (full, from scratch, model load included):")
    print(f"  BM25 baseline     {bm25_time:8.2f} s")
    print(f"  Greenpair         {gp_time:8.2f} s   (peak RSS {gp_rss:.0f} MB)")
    if naive_time is not None:
        print(f"  naive dense       {naive_time:8.2f} s   -> Greenpair / naive = "
              f"{gp_time / naive_time:.3f}")
    print(f"Greenpair search: {search_ms:.1f} ms per query (warm)")
    if args.json:
        args.json.write_text(json.dumps({
            "greenpair_index_s": gp_time, "naive_index_s": naive_time, "bm25_index_s": bm25_time,
            "peak_rss_mb": gp_rss, "stats": stats, "search_ms": search_ms,
        }, indent=2))
    index.close()
    shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
