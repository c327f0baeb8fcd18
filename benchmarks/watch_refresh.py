"""Time the watcher's refresh after a one-file save, in a generated repository.

Before: the refresh walked (and hashed) the whole repository, ``index.update()``.
After: it scans only the changed paths, ``index.update(paths=[...])``. Both run on the
same index in the same process, alternating, and the figures are medians.

    python benchmarks/watch_refresh.py [--files 2000] [--rounds 7] [--embed]

Without ``--embed`` the index is lexical only (the embedding of one edited file costs the
same before and after, and the first full embedding of 2,000 files takes minutes on two
cores).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from index_scale import EXTENSIONS, c_like_file, markdown_file, python_file  # noqa: E402


def generate(root: Path, files: int, seed: int = 0) -> None:
    """Write ``files`` small source files (20-60 lines) over a few dozen folders."""
    rng = random.Random(seed)
    kinds = [*EXTENSIONS, "python", "python", "markdown"]
    for n in range(files):
        kind = rng.choice(kinds)
        folder = root / "src" / f"pkg{n % 23}" / f"mod{n % 5}"
        lines = rng.randint(20, 60)
        if kind == "markdown":
            path, text = root / "docs" / f"note_{n}.md", markdown_file(rng, lines)
        elif kind == "python":
            path, text = folder / f"unit_{n}.py", python_file(rng, lines)
        else:
            path, text = folder / f"unit_{n}.{EXTENSIONS[kind]}", c_like_file(rng, lines, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / ".gitignore").write_text("build/\n*.log\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--embed", action="store_true", help="embed as the watcher does")
    args = parser.parse_args()

    from greenpair.core import config

    real_models = config.models_dir()
    home = Path(tempfile.mkdtemp(prefix="greenpair-watch-"))
    os.environ["GREENPAIR_HOME"] = str(home)
    if real_models.is_dir():
        os.symlink(real_models, home / "models")
    try:
        repo = home / "repo"
        generate(repo, args.files)
        from greenpair.core.index import open_index

        index = open_index(repo)
        started = time.perf_counter()
        for _ in index.update(embed=args.embed):
            pass
        stats = index.stats()
        print(f"{stats['files']} files, {stats['chunks']} chunks indexed in "
              f"{time.perf_counter() - started:.1f} s (embed={args.embed})")

        sources = sorted((repo / "src").rglob("*.py"))
        target = sources[len(sources) // 2]
        rel = target.relative_to(repo).as_posix()
        timings: dict[str, list[float]] = {"full walk (before)": [], "changed paths (after)": []}
        for i in range(args.rounds * 2):
            label = list(timings)[i % 2]
            with target.open("a", encoding="utf-8") as handle:
                handle.write(f"\n\ndef saved_function_{i}(value):\n    return value + {i}\n")
            paths = None if i % 2 == 0 else [rel]
            t0 = time.perf_counter()
            for _ in index.update(embed=args.embed, paths=paths):
                pass
            timings[label].append(time.perf_counter() - t0)
            found = index.search(f"saved_function_{i}", k=1).files
            if found != [rel]:
                print(f"  round {i}: expected {rel}, found {found}")
                return 1
        before, after = (statistics.median(t) for t in timings.values())
        print(f"refresh after saving {rel} (median of {args.rounds}):")
        print(f"  before, whole repository walked: {before * 1000:8.1f} ms")
        print(f"  after, changed path only:        {after * 1000:8.1f} ms")
        print(f"  ratio: {before / after:.1f}x faster")
        index.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
