"""Build (or refresh) Greenpair's index of one benchmark corpus, in its own process, and
print its figures as JSON: index time, peak RSS, files, chunks, skipped by reason.

Used by ``benchmarks/retrieval.py`` (one process per corpus, so peak RSS is the
corpus's own) and by the retrieval check in the tests. The index lives under
``GREENPAIR_HOME`` (the caller picks a cache folder); a refresh of an index built before
takes seconds and reports the figures of the build from scratch it found.

    GREENPAIR_HOME=DIR python benchmarks/localization_index.py CORPUS [--rebuild] [--no-dense]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-dense", action="store_true")
    args = parser.parse_args()

    from greenpair.core.config import load_settings
    from greenpair.core.index import open_index

    t0 = time.perf_counter()
    # GREENPAIR_HOME's settings: ``embedder_model`` there picks the embedder
    index = open_index(args.corpus.resolve(), load_settings(), rebuild=args.rebuild)
    fresh = args.rebuild or not index.is_built()
    phases: dict[str, float] = {}
    last = time.perf_counter()
    for event in index.update(embed=not args.no_dense):
        now = time.perf_counter()
        phases[event.phase] = phases.get(event.phase, 0.0) + now - last
        last = now
    figures = {
        "index_s": round(time.perf_counter() - t0, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "phases_s": {k: round(v, 2) for k, v in phases.items()},
        "dense": not args.no_dense,
        "stats": index.stats(),
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    index.close()
    record = index.folder / "bench-build.json"
    if fresh:
        record.write_text(json.dumps(figures, indent=2))
    elif record.exists():  # a refresh: report the build from scratch
        built = json.loads(record.read_text())
        figures = {**built, "refresh_s": figures["index_s"], "stats": figures["stats"]}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
