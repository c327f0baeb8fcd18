"""Failing-test mode, one location at a time: shown a single definition, does the model's
draft make the named test pass?

The product's draft is shown several definitions at once. This separates the two reasons
a draft can fail: the model was shown the wrong code, or it cannot write the fix. For every
task, after the product's own steps before drafting (``localise.before_drafting``: the
traced run, the suspects, the fused search):

* ``--where top``: one draft at each of the first ``--locations`` items of the fused list
  (as the product ranks them), each shown alone;
* ``--where gold``: one draft at the first item that holds a line the commit changed (an
  oracle: what a perfect localisation would show; tasks where no item does are skipped).

At each location the product's own loop runs (``repair.draft_checked``, as ``greenpair
patch --check`` does) with that definition as the only code found and the failing test's
output as the evidence: the format it chooses, greedy drafts, each checked in a scratch
copy; up to ``--repairs`` more tries (a failed check shown to the model, an unusable draft
answered with why and sampled, a repeated edit ending the loop). A draft whose check
passes is judged by the benchmark (``run.evaluate``: FAIL_TO_PASS and PASS_TO_PASS on the
patched tree, with the commit's tests).

(The first version of this script, at ``e39fbdc``, ran its own copy of the loop and had
``--plan``: the model was first asked, without the format's grammar, what the test
expects and which lines must change. Its figures are in the README.)

    .venv/bin/python benchmarks/patch_bench/narrow.py --source PYTEST_GIT \\
        --python TESTVENV/bin/python --tasks benchmarks/patch_bench/tasks_two_lines.jsonl \\
        [--where gold] [--repairs 2] [--out rows.jsonl]

The model and threads are those of ``--home`` (default: WORK/home-check, as ``run.py``
sets it up: ``greenpair config set model …``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import HERE
from localise import (
    add_common_arguments,
    before_drafting,
    changed_lines,
    first_hit,
    open_bench,
)
from run import evaluate, load_tasks, prepare_scratch


def span(sc: Any) -> tuple[str, int, int]:
    """A shown item's file and lines."""
    return sc.chunk.path, sc.chunk.start_line, sc.chunk.end_line


def locations(fused: list[Any], gold: dict[str, set[int]], where: str, count: int) -> list[Any]:
    """The items drafted at: the first ``count`` of the fused list, or (``gold``) the first
    item that holds a changed line (none when no item does)."""
    if where == "gold":
        return [sc for sc in fused if first_hit([span(sc)], gold) is not None][:1]
    return fused[:count]


def try_location(tree: Path, task: dict[str, Any], steps: Any, sc: Any, args: Any,
                 services: Any, check_options: Any) -> dict[str, Any]:
    """The product's loop (``draft_checked``) with ``sc`` the only code shown: no search
    around it, no suspects, no focus, the evidence of the run before drafting; a draft
    whose check passes is judged by the benchmark."""
    from greenpair.core.assistant.check.repair import draft_checked
    from greenpair.core.assistant.patch.drafting import PatchDraft
    from greenpair.core.assistant.retriever import StaticRetriever

    options = dataclasses.replace(steps.base, suspects=[], focus_names=[], focus=False)
    check = dataclasses.replace(check_options, tries=1 + args.repairs, timeout_s=args.timeout,
                                run_named_first=False)  # its evidence is in the options
    started = time.monotonic()
    draft = None
    for event in draft_checked(tree, steps.request, runtime=services.runtime(),
                               meter=services.meter, index=StaticRetriever([sc]),
                               options=options, check=check):
        if isinstance(event, PatchDraft):
            draft = event
    assert draft is not None
    assert draft.check is not None
    out: dict[str, Any] = {
        "path": sc.chunk.path, "lines": [sc.chunk.start_line, sc.chunk.end_line],
        "name": sc.chunk.symbol, "seconds": round(time.monotonic() - started, 1),
        "tries": [a.to_json() for a in draft.check.attempts], "diff": draft.diff,
        "status": draft.check.status, "total_joules": draft.check.total_joules}
    if draft.check.ok:
        judged = evaluate(tree, task, "failing_test", draft.diff, args.python, args.timeout,
                          draft.check.to_json())
        prepare_scratch(tree, task, "failing_test")  # evaluate wrote the patch
        out.update(resolved=judged["resolved"], false_passes=judged["false_passes"])
    return out


def summarize(rows: list[dict[str, Any]]) -> str:
    """Tasks, locations, tries (the product's ``attempts``), tries checked, repeats, checks
    passed, tasks resolved, median seconds per location."""
    locs = [loc for r in rows for loc in r["locations"]]
    tries = [t for loc in locs for t in loc["tries"]]
    checked = [t for t in tries if t["status"] not in {"no_patch", "repeat"}]
    repeats = sum(1 for t in tries if t["status"] == "repeat")
    passed = sum(1 for t in tries if t["status"] == "passed")
    resolved = sum(1 for r in rows if any(loc.get("resolved") for loc in r["locations"]))
    seconds = [loc["seconds"] for loc in locs]
    median = f"{statistics.median(seconds):.1f}" if seconds else "-"
    return ("| tasks | locations | tries | checked | repeats | check passed | tasks resolved "
            "| median s per location |\n|---|---|---|---|---|---|---|---|\n"
            f"| {len(rows)} | {len(locs)} | {len(tries)} | {len(checked)} | {repeats} | "
            f"{passed} | {resolved} | {median} |")


def main() -> None:
    """Draft at each task's locations and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(ap, HERE / "tasks_two_lines.jsonl", "home-check")
    ap.add_argument("--where", choices=("top", "gold"), default="top")
    ap.add_argument("--locations", type=int, default=3, help="Items drafted at (--where top)")
    ap.add_argument("--repairs", type=int, default=0,
                    help="Tries after the first (the product's check_tries - 1)")
    ap.add_argument("--timeout", type=float, default=180, help="Seconds per check")
    args = ap.parse_args()
    tree, services, check_options = open_bench(args, "home-check")
    rows = []
    for task in load_tasks(args.tasks, args.limit):
        steps = before_drafting(tree, task, services, check_options)
        gold = changed_lines(tree, task)
        row: dict[str, Any] = {
            "instance_id": task["instance_id"], "where": args.where,
            "repairs": args.repairs, "model": services.runtime().model_id,
            "gold_rank": first_hit([span(sc) for sc in steps.fused], gold), "locations": []}
        for sc in locations(steps.fused, gold, args.where, args.locations):
            found = try_location(tree, task, steps, sc, args, services, check_options)
            found["gold"] = first_hit([span(sc)], gold) is not None
            row["locations"].append(found)
            if found.get("resolved"):
                break
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "locations"} | {
            "tried": [(loc["name"], loc["gold"], [t["status"] for t in loc["tries"]])
                      for loc in row["locations"]]}), flush=True)
        if args.out:
            with args.out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
    services.close()
    print()
    print(summarize(rows))


if __name__ == "__main__":
    main()
