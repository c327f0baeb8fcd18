"""Failing-test mode, localisation only: is the code the commit changed among what the
model is shown? No model runs, so all 48 tasks take minutes, not hours.

For every task: the parent with the commit's tests (the failing-test mode's tree), the
request "Make `<test>` pass.", and the product's own steps before drafting:

1. the named tests run once, traced (``named_test_evidence``: the evidence text and the
   functions the failing tests executed);
2. the search the draft makes (``drafting.candidate_chunks`` with ``PatchOptions``
   defaults: the request, the traceback's focus names and the evidence, ``top_k`` chunks,
   test files left out);
3. ``retrieval``: those chunks as ranked (what drafts saw before the trace);
   ``suspects``: the executed definitions alone (``failure_suspects``);
   ``fused``: both as the draft now sees them (``targets.fuse_suspects``).

A list "finds" a task at rank r when its r-th item (1-based, after folding items inside
earlier ones) overlaps a line the commit changed in a source file. Reported: how many
tasks each list finds within the first 1, 2 and 3 items, and the traced run's seconds.

    .venv/bin/python benchmarks/patch_bench/localise.py --source PYTEST_GIT \\
        --python TESTVENV/bin/python [--tasks tasks_pytest.jsonl] [--out rows.jsonl]

The product's index of the scratch tree is built in ``--home`` (default: WORK/home-localise).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import HERE, ROOT, ensure_clone, git, test_command
from run import load_tasks, prepare_scratch, request_for

CUTS = (1, 2, 3)


def changed_lines(tree: Path, task: dict[str, Any]) -> dict[str, set[int]]:
    """Per source file, the parent's lines the commit's source change touches (a pure
    insertion counts the line before and after it)."""
    out: dict[str, set[int]] = {}
    path = None
    for line in git(tree, "diff", "-U0", task["parent"], task["commit"], "--",
                    *task["source_files"]).splitlines():
        if line.startswith("--- a/"):
            path = line[6:]
        elif line.startswith("--- "):
            path = None  # a new file: nothing in the parent to show
        elif line.startswith("@@") and path:
            old = line.split()[1][1:].split(",")
            start, count = int(old[0]), int(old[1]) if len(old) > 1 else 1
            lines = set(range(start, start + count)) if count else {start, start + 1}
            out.setdefault(path, set()).update(lines)
    return out


def first_hit(items: list[tuple[str, int, int]], gold: dict[str, set[int]]) -> int | None:
    """1-based rank of the first item that overlaps a changed line (items inside an
    earlier item are folded into it, as the packing does)."""
    kept: list[tuple[str, int, int]] = []
    for path, start, end in items:
        if any(p == path and s <= start and end <= e for p, s, e in kept):
            continue
        kept.append((path, start, end))
        if any(start <= n <= end for n in gold.get(path, ())):
            return len(kept)
    return None


@dataclass
class BeforeDrafting:
    """A failing-test task's tree and the product's steps before its first draft."""

    request: str
    evidence: str
    before: Any  # the traced run's CheckResult (None when the tests could not run)
    base: Any  # the PatchOptions the first draft is made with, without the suspects
    suspects: list[tuple[str, int, int, str]]
    fused: list[Any]  # the ScoredChunks the draft is shown, best first
    traced_s: float


def before_drafting(tree: Path, task: dict[str, Any], services: Any,
                    options: Any) -> BeforeDrafting:
    """Put ``tree`` in the failing-test mode's state for ``task``, bring the product's index
    of it up to date and run the product's steps before drafting (the traced run, the
    suspects, the fused search)."""
    import dataclasses

    from greenpair.core.assistant.check.discovery import named_tests
    from greenpair.core.assistant.check.failure import failure_suspects
    from greenpair.core.assistant.check.repair import _focus, named_test_evidence
    from greenpair.core.assistant.patch.drafting import PatchOptions, candidate_chunks

    prepare_scratch(tree, task, "failing_test")
    for _ in services.index(tree).update():  # the task's files, as the CLI now does
        pass
    request = request_for(task, "failing_test")
    named = sorted({t.split("::")[0] for t in named_tests(request, tree)})
    started = time.monotonic()
    evidence, before = named_test_evidence(tree, request, meter=services.meter,
                                           options=options, deadline=time.monotonic() + 300)
    traced_s = time.monotonic() - started
    base = PatchOptions(exclude_paths=named, show_tests=False)
    suspects: list[tuple[str, int, int, str]] = []
    if evidence and before is not None:
        base = _focus(dataclasses.replace(base, evidence=evidence), tree, before)
        suspects = failure_suspects(tree, request, evidence, before, named)
    fused = candidate_chunks(services.index(tree), request,
                             dataclasses.replace(base, suspects=suspects))
    return BeforeDrafting(request, evidence, before, base, suspects, fused, traced_s)


def add_common_arguments(ap: argparse.ArgumentParser, tasks: Path, home: str) -> None:
    """The arguments every failing-test script here takes."""
    ap.add_argument("--tasks", type=Path, default=tasks)
    ap.add_argument("--source", required=True, help="pytest's git repository, with history")
    ap.add_argument("--python", required=True, help="Python of the test venv")
    ap.add_argument("--work", type=Path, default=ROOT / ".bench" / "patch_bench")
    ap.add_argument("--home", type=Path, default=None,
                    help=f"Greenpair's data dir (model, threads); default WORK/{home}")
    ap.add_argument("--out", type=Path, default=None, help="One JSON row per task.")
    ap.add_argument("--limit", type=int, default=None)


def open_bench(args: argparse.Namespace, home: str) -> tuple[Path, Any, Any]:
    """The scratch tree (``WORK/tree-localise``), the product's ``Services`` (data dir
    ``--home`` or ``WORK/<home>``) and ``CheckOptions`` with the benchmark's test command."""
    work = args.work.resolve()
    os.environ["GREENPAIR_HOME"] = str((args.home or work / home).resolve())
    sys.path.insert(0, str(ROOT / "app"))
    from greenpair.core.assistant.check.checker import CheckOptions
    from greenpair.core.services import Services

    tree = ensure_clone(args.source, work / "tree-localise")
    return tree, Services.build(), CheckOptions(test_command=test_command(args.python))


def main() -> None:
    """Run every task's steps before drafting and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(ap, HERE / "tasks_pytest.jsonl", "home-localise")
    args = ap.parse_args()
    tree, services, options = open_bench(args, "home-localise")
    from greenpair.core.assistant.patch.drafting import candidate_chunks

    rows = []
    for task in load_tasks(args.tasks, args.limit):
        steps = before_drafting(tree, task, services, options)
        before = steps.before
        # what drafts saw before the trace: the same search without the suspects
        retrieved = candidate_chunks(services.index(tree), steps.request, steps.base)
        gold = changed_lines(tree, task)
        lists = {
            "retrieval": [(sc.chunk.path, sc.chunk.start_line, sc.chunk.end_line)
                          for sc in retrieved],
            "suspects": [(p, s, e) for p, s, e, _n in steps.suspects],
            "fused": [(sc.chunk.path, sc.chunk.start_line, sc.chunk.end_line)
                      for sc in steps.fused],
        }
        row = {"instance_id": task["instance_id"], "status": before.status if before else None,
               "executed": len(before.executed) if before else 0,
               "traced_s": round(steps.traced_s, 2),
               **{name: first_hit(items, gold) for name, items in lists.items()}}
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.out:
            with args.out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
    services.close()
    print(f"\n{len(rows)} tasks (failing-test mode; gold = lines the commit changed)")
    print("| list | " + " | ".join(f"found in top {c}" for c in CUTS) + " |")
    print("|---|" + "---|" * len(CUTS))
    for name in ("retrieval", "suspects", "fused"):
        cells = [sum(1 for r in rows if r[name] is not None and r[name] <= c) for c in CUTS]
        print(f"| {name} | " + " | ".join(str(x) for x in cells) + " |")
    traced = sorted(r["traced_s"] for r in rows)
    if traced:
        print(f"median seconds of the traced run before drafting: {traced[len(traced) // 2]}")


if __name__ == "__main__":
    main()
