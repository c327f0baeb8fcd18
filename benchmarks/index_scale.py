"""Index a generated multi-language repository of ~100k lines.

Prints the full index time (lexical phase and embeddings), peak RSS, and the time to
bring the index up to date after a one-file edit (target < 2 s), beside the full rebuild
of the same repository in the same process (the baseline an index without a manifest
would pay on every change).

    python benchmarks/index_scale.py [--lines 100000] [--precision fp32|int8] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))

_WORDS = (
    "account address amount archive balance batch buffer cache channel checksum client "
    "config connection counter cursor customer digest document entry event export filter "
    "format frame handler header index invoice item journal key ledger limit listener "
    "loader message metric node offset order packet page parser payload policy pool price "
    "queue record region report request resource result retry route schedule schema "
    "segment session shard signal snapshot source stream summary task tenant token "
    "transaction update user value version window worker"
)
_VERBS = (
    "build check compute decode encode fetch find flush load merge parse read render reset "
    "resolve save scan send sort split store sync validate write"
)
WORDS = _WORDS.split()
VERBS = _VERBS.split()


def _name(rng: random.Random, style: str) -> str:
    parts = [rng.choice(VERBS), rng.choice(WORDS), rng.choice(WORDS)]
    if style == "snake":
        return "_".join(parts)
    return parts[0] + "".join(p.title() for p in parts[1:])


def _body(rng: random.Random, n: int, comment: str, end: str) -> list[str]:
    lines = []
    for _ in range(n):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        if rng.random() < 0.15:
            lines.append(f"    {comment} {rng.choice(VERBS)} the {a} before the {b} is used")
        else:
            lines.append(f"    {a}_{b} = {rng.choice(WORDS)}_{rng.randint(0, 99)}{end}")
    return lines


def python_file(rng: random.Random, lines: int) -> str:
    out = ['"""Module for ' + " ".join(rng.sample(WORDS, 4)) + '."""', ""]
    while len(out) < lines:
        cls = rng.choice(WORDS).title() + rng.choice(WORDS).title()
        out += [f"class {cls}:", f'    """Keeps the {rng.choice(WORDS)} state."""', ""]
        for _ in range(rng.randint(2, 5)):
            out.append(f"    def {_name(rng, 'snake')}(self, {rng.choice(WORDS)}, limit=10):")
            out += ["    " + line for line in _body(rng, rng.randint(4, 14), "#", "")]
            out += [f"        return {rng.choice(WORDS)}_{rng.choice(WORDS)}", ""]
    return "\n".join(out[:lines]) + "\n"


def c_like_file(rng: random.Random, lines: int, lang: str) -> str:
    out = [f"// {lang} module: " + " ".join(rng.sample(WORDS, 4)), ""]
    while len(out) < lines:
        name = _name(rng, "camel" if lang != "rust" else "snake")
        if lang == "go":
            head = f"func {name}({rng.choice(WORDS)} int) int {{"
        elif lang == "rust":
            head = f"pub fn {name}({rng.choice(WORDS)}: u64) -> u64 {{"
        elif lang == "java":
            head = f"    public int {name}(int {rng.choice(WORDS)}) {{"
        elif lang == "c":
            head = f"int {name.lower()}(int {rng.choice(WORDS)}) {{"
        else:
            head = f"export function {name}({rng.choice(WORDS)}) {{"
        out.append(head)
        out += _body(rng, rng.randint(4, 16), "//", ";")
        out += [f"    return {rng.choice(WORDS)}_{rng.choice(WORDS)};", "}", ""]
    if lang == "java":
        out = ["public class " + rng.choice(WORDS).title() + "Service {", *out, "}"]
    return "\n".join(out[:lines]) + "\n"


def markdown_file(rng: random.Random, lines: int) -> str:
    out = ["# " + " ".join(rng.sample(WORDS, 3)).title(), ""]
    while len(out) < lines:
        out.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))) + ".")
    return "\n".join(out[:lines]) + "\n"


EXTENSIONS = {"python": "py", "javascript": "js", "typescript": "ts", "go": "go", "rust": "rs",
              "java": "java", "c": "c"}


def generate(root: Path, total_lines: int, seed: int = 0) -> int:
    """Write a repository of about ``total_lines`` lines; returns the number of files."""
    rng = random.Random(seed)
    written = files = 0
    while written < total_lines:
        kind = rng.choice([*EXTENSIONS, "python", "markdown", "test"])
        lines = rng.randint(80, 400)
        package = f"pkg{files % 17}"
        if kind == "markdown":
            path, text = root / "docs" / f"{rng.choice(WORDS)}_{files}.md", markdown_file(rng, lines)
        elif kind == "test":
            path, text = root / "tests" / f"test_{rng.choice(WORDS)}_{files}.py", python_file(rng, lines)
        elif kind == "python":
            path, text = root / "src" / package / f"{rng.choice(WORDS)}_{files}.py", python_file(rng, lines)
        else:
            ext = EXTENSIONS[kind]
            path = root / "src" / package / f"{rng.choice(WORDS)}_{files}.{ext}"
            text = c_like_file(rng, lines, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written += text.count("\n")
        files += 1
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--precision", default=None)
    parser.add_argument("--keep", type=Path, help="generate the repository here and keep it")
    args = parser.parse_args()

    from greenpair.core import config

    real_models = config.models_dir()
    home = Path(tempfile.mkdtemp(prefix="greenpair-scale-"))
    os.environ["GREENPAIR_HOME"] = str(home)
    os.symlink(real_models, home / "models")
    repo = args.keep or home / "repo"
    repo.mkdir(parents=True, exist_ok=True)
    n_files = generate(repo, args.lines)
    print(f"generated {n_files} files, ~{args.lines} lines in {repo}")

    from greenpair.core.index import embedder, open_index

    precision = args.precision or embedder.DEFAULT_PRECISION

    def full_index() -> tuple[float, float, dict]:
        started = time.perf_counter()
        index = open_index(repo, rebuild=True, precision=precision)
        lexical_done = None
        for event in index.update():
            if event.phase == "embed" and lexical_done is None:
                lexical_done = time.perf_counter() - started
        elapsed = time.perf_counter() - started
        stats = index.stats()
        index.close()
        return elapsed, lexical_done or elapsed, stats

    full_s, lexical_s, stats = full_index()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"full index: {full_s:.1f} s (searchable lexically after {lexical_s:.1f} s); "
          f"{stats['files']} files, {stats['chunks']} chunks, {stats['embedded_chunks']} "
          f"embedded ({precision}); peak RSS {rss:.0f} MB")

    index = open_index(repo, precision=precision)
    index.search("warm up the models", k=5)
    sources = sorted((repo / "src").rglob("*.py"))
    target = sources[len(sources) // 2]
    rel = target.relative_to(repo).as_posix()
    times = []
    for i in range(3):
        with target.open("a", encoding="utf-8") as handle:
            handle.write(f"\n\ndef freshly_added_function_{i}(value):\n    return value * {i}\n")
        started = time.perf_counter()
        for _ in index.update():
            pass
        times.append(time.perf_counter() - started)
        found = index.search(f"freshly_added_function_{i}", k=3).files
        if found[:1] != [rel]:
            print(f"  edit {i}: expected {rel} first, got {found}")
    edit_s = sorted(times)[1]
    print(f"re-index after a one-file edit: {edit_s:.2f} s (median of 3; searchable after) "
          f"vs full rebuild {full_s:.1f} s -> {full_s / edit_s:.0f}x less")
    t0 = time.perf_counter()
    for _ in range(20):
        index.search("validate the invoice amount before saving the ledger entry", k=10)
    print(f"search: {(time.perf_counter() - t0) / 20 * 1000:.0f} ms per query (warm)")
    index.close()
    if args.keep is None:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
