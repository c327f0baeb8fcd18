"""Which edit format do small local models get right? (decides ``formats.PREFERRED_FORMAT``)

Task set: ``benchmarks/data/patch_tasks.jsonl`` — small functions of the pytest 9.0.2
sdist (code we did not write), each with a described change and the expected function
after it. For every model × edit format × task, ``draft_patch`` runs on a scratch copy of
the file with the target function as its retrieved context (oracle retrieval, so the
figures measure the edit format, not retrieval), and we report:

* well-formed: the first reply parses in the format;
* applies: the first reply matches the file and passes the checks (git apply, no new
  tree-sitter errors); ``+retry``: after the one retry the product makes;
* exact: the resulting file equals the expected one (trailing spaces ignored).

Usage::

    nice .venv/bin/python benchmarks/patch.py [--models qwen2.5-coder-1.5b,qwen2.5-coder-0.5b]
        [--formats search_replace,function,udiff] [--limit N] [--json OUT]

The corpus is fetched once into ``~/.cache/greenpair-bench`` (``pip download`` of the sdist).
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TASKS = HERE / "data" / "patch_tasks.jsonl"
CACHE = Path.home() / ".cache" / "greenpair-bench"
SDIST = "pytest-9.0.2"



@functools.cache
def _meter() -> Any:
    """One energy meter for this benchmark run (as an entry point's Services has)."""
    from greenpair.core.energy.meter import Meter

    return Meter()

def corpus_dir() -> Path:
    """The unpacked pytest 9.0.2 sdist (downloaded once with pip)."""
    root = CACHE / SDIST
    if root.is_dir():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    "pytest==9.0.2", "-d", str(CACHE / "sdist")], check=True)
    with tarfile.open(CACHE / "sdist" / f"{SDIST}.tar.gz") as tar:
        tar.extractall(CACHE, filter="data")
    return root


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


@dataclass
class Row:
    """The outcome of one task."""

    id: str
    wellformed: bool = False
    applies: bool = False
    exact: bool = False
    applies_retry: bool = False
    exact_retry: bool = False
    completion_tokens: int = 0
    seconds: float = 0.0
    joules: float | None = None
    error: str | None = None
    methods: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    diff: str = ""


def _expected_file(task: dict, original: str) -> str:
    assert original.count(task["original"]) >= 1
    return original.replace(task["original"], task["expected"], 1)


def _judge_reply(repo: Path, fmt: str, reply: str, task: dict) -> tuple[bool, bool, bool]:
    """(well-formed, applies, exact) of one reply, judged like the product does."""
    from greenpair.core.assistant.patch.diffs import validate
    from greenpair.core.assistant.patch.editing import apply_edits
    from greenpair.core.assistant.patch.edits import parse_edits
    from greenpair.core.errors import PatchError

    try:
        edits = parse_edits(fmt, reply, default_path=task["path"])
    except PatchError:
        return False, False, False
    try:
        changes = apply_edits(repo, edits, {task["path"]: task["start_line"] - 1})
        validate(changes)
    except PatchError:
        return True, False, False
    return True, True, _exact(changes, task, repo)


def _exact(changes: list, task: dict, repo: Path) -> bool:
    original = (repo / task["path"]).read_text(encoding="utf-8")
    want = _norm(_expected_file(task, original))
    got = {c.path: c.after.decode("utf-8") for c in changes}
    return set(got) == {task["path"]} and _norm(got[task["path"]]) == want


def run_task(runtime: object, fmt: str, task: dict, corpus: Path) -> Row:
    """Draft one task in ``fmt`` and judge the first reply and the final draft."""
    from greenpair.core.assistant.patch.drafting import (
        PatchDraft,
        PatchOptions,
        Status,
        Token,
        draft_patch,
    )
    from greenpair.core.assistant.retriever import StaticRetriever
    from greenpair.core.types import Chunk, ScoredChunk

    row = Row(task["id"])
    with tempfile.TemporaryDirectory(prefix="gp-patch-bench-") as tmp:
        repo = Path(tmp)
        target = repo / task["path"]
        target.parent.mkdir(parents=True)
        target.write_bytes((corpus / task["path"]).read_bytes())
        chunk = Chunk(task["path"], "python", task["start_line"], task["end_line"],
                      task["original"], kind="function", symbol=task["symbol"])
        retriever = StaticRetriever([ScoredChunk(chunk, 1.0)])
        replies, pieces = [], []
        draft: PatchDraft | None = None
        t0 = time.perf_counter()
        for event in draft_patch(repo, task["task"], runtime=runtime, index=retriever,  # type: ignore[arg-type]
                                 options=PatchOptions(format=fmt), meter=_meter()):
            if isinstance(event, Token):
                pieces.append(event.text)
            elif isinstance(event, Status) and "retrying" in event.text:
                replies.append("".join(pieces))
                pieces = []
            elif isinstance(event, PatchDraft):
                draft = event
        row.seconds = time.perf_counter() - t0
        replies.append("".join(pieces))
        assert draft is not None
        row.wellformed, row.applies, row.exact = _judge_reply(repo, fmt, replies[0], task)
        row.applies_retry = draft.error is None
        row.exact_retry = row.applies_retry and _exact(draft.changes, task, repo)
        row.completion_tokens = draft.completion_tokens
        row.joules = draft.energy.joules if draft.energy else None
        row.error = draft.error
        row.methods = draft.match_methods
        row.replies = replies
        row.diff = draft.diff
    return row


def _rate(rows: list[Row], attr: str) -> str:
    n = sum(1 for r in rows if getattr(r, attr))
    return f"{n}/{len(rows)} ({n / len(rows):.0%})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="qwen2.5-coder-1.5b,qwen2.5-coder-0.5b")
    parser.add_argument("--formats", default="search_replace,function,udiff")
    parser.add_argument("--limit", type=int, default=0, help="First N tasks only.")
    parser.add_argument("--threads", type=int, default=0, help="0: Greenpair's default.")
    parser.add_argument("--json", type=Path, default=None, help="Write all rows here.")
    args = parser.parse_args()

    from greenpair.core.llm.manager import open_runtime
    from greenpair.core.llm.model_store import find_model

    tasks = [json.loads(line) for line in TASKS.read_text().splitlines() if line.strip()]
    tasks = tasks[: args.limit] if args.limit else tasks
    corpus = corpus_dir()
    results: dict[str, dict[str, list[Row]]] = {}
    header = (f"{'model':<20} {'format':<15} {'well-formed':>12} {'applies':>12} {'exact':>12} "
              f"{'applies+retry':>14} {'exact+retry':>12} {'tok/task':>8} {'s/task':>7} "
              f"{'J/task':>7}")
    lines = []
    for model in args.models.split(","):
        if find_model(model) is None:
            print(f"{model}: not on this machine (greenpair models pull {model}); not measured")
            continue
        opts = {"n_threads": args.threads} if args.threads else {}
        runtime = open_runtime(model, seed=0, **opts)
        results[model] = {}
        for fmt in args.formats.split(","):
            rows = []
            for task in tasks:
                row = run_task(runtime, fmt, task, corpus)
                rows.append(row)
                print(f"  {model} {fmt} {row.id}: wf={row.wellformed:d} ap={row.applies:d} "
                      f"ex={row.exact:d} ap+r={row.applies_retry:d} ex+r={row.exact_retry:d} "
                      f"{row.seconds:.1f}s {row.error or ''}"[:200], flush=True)
            results[model][fmt] = rows
            joules = [r.joules for r in rows if r.joules is not None]
            lines.append(
                f"{model:<20} {fmt:<15} {_rate(rows, 'wellformed'):>12} {_rate(rows, 'applies'):>12} "
                f"{_rate(rows, 'exact'):>12} {_rate(rows, 'applies_retry'):>14} "
                f"{_rate(rows, 'exact_retry'):>12} "
                f"{sum(r.completion_tokens for r in rows) / len(rows):>8.0f} "
                f"{sum(r.seconds for r in rows) / len(rows):>7.1f} "
                f"{(sum(joules) / len(joules)) if joules else float('nan'):>7.0f}"
            )
        runtime.unload()
    print(f"\n{len(tasks)} tasks from {TASKS.name} (pytest 9.0.2), oracle context, greedy decoding")
    print(header)
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(
            {m: {f: [r.__dict__ for r in rows] for f, rows in fr.items()}
             for m, fr in results.items()}, indent=1))


if __name__ == "__main__":
    main()
