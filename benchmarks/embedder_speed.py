"""Embedding speed of a model of one's own (the ``embedder_model`` setting) against the
packaged all-MiniLM-L6-v2, side by side in one process.

Both embed the same code chunks (a corpus's source files, chunked as the indexer chunks
them), in batches of 32 as the index does, rounds interleaved (packaged, own, packaged,
own, ...) after a warm-up; the figure is the ratio of the medians, since these machines
are shared and noisy.

    python benchmarks/embedder_speed.py MODEL_DIR [--corpus DIR] [--chunks 400] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
BATCH = 32


def chunks_of(corpus: Path, limit: int) -> list[str]:
    """Up to ``limit`` chunk texts of the corpus's source files, as the indexer embeds them."""
    from greenpair.core.index import categories
    from greenpair.core.index.updater import embed_text
    from greenpair.core.repo.chunker import chunk_file
    from greenpair.core.repo.languages import detect_language

    out: list[str] = []
    for path in sorted(corpus.rglob("*")):
        rel = path.relative_to(corpus).as_posix()
        if not path.is_file() or categories.category(rel) != categories.SOURCE:
            continue
        text = path.read_text(errors="replace")
        lang = detect_language(rel, text)
        if not lang or not categories.is_code(lang):
            continue
        out += [embed_text(c) for c in chunk_file(rel, text, lang)]
        if len(out) >= limit:
            break
    return out[:limit]


def timed(embedder: object, texts: list[str]) -> float:
    start = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        embedder.embed(texts[i:i + BATCH])  # type: ignore[attr-defined]
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="a sentence-transformers folder")
    parser.add_argument("--corpus", type=Path,
                        default=ROOT / ".cache" / "corpora" / "pydantic-core-2.41.5")
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        parser.error(f"{args.corpus} is not a folder; give --corpus a source tree "
                     "(benchmarks/retrieval.py fetches the dev sets' corpora)")

    from greenpair.core.index import embedder as embedder_mod

    texts = chunks_of(args.corpus, args.chunks)
    if not texts:
        parser.error(f"no source chunks in {args.corpus}")
    models = {"packaged": embedder_mod.load_embedder(),
              "own": embedder_mod.load_embedder(model=str(args.model.resolve()))}
    for embedder in models.values():
        timed(embedder, texts[:BATCH])  # warm up
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, embedder in models.items():
            seconds[name].append(timed(embedder, texts))
    print(f"{len(texts)} chunks of {args.corpus.name}, batches of {BATCH}, "
          f"{args.rounds} interleaved rounds")
    print("| model | name | chunks/s (median) |")
    print("|---|---|---|")
    for name, embedder in models.items():
        rate = len(texts) / statistics.median(seconds[name])
        print(f"| {name} | {embedder.name} | {rate:.1f} |")
    ratio = statistics.median(seconds["own"]) / statistics.median(seconds["packaged"])
    print(f"own / packaged time: x{ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
