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

Each draft is the product's ``draft_patch`` (the format it chooses for the model, greedy)
and is checked by the product's check in a scratch copy. Up to ``--repairs`` more drafts
follow, as in the product's loop: a failed check is shown to the model
(``repair_message``); an unusable draft is answered with why, and the next one sampled.
``--plan`` first asks the model, without the format's grammar, what the test expects and
which lines must change; the edit is asked for after that answer. A draft whose check
passes is judged by the benchmark (``run.evaluate``: FAIL_TO_PASS and PASS_TO_PASS on the
patched tree, with the commit's tests).

    .venv/bin/python benchmarks/patch_bench/narrow.py --source PYTEST_GIT \\
        --python TESTVENV/bin/python --tasks benchmarks/patch_bench/tasks_two_lines.jsonl \\
        [--where gold] [--plan] [--repairs 3] [--out rows.jsonl]

The model and threads are those of ``--home`` (default: WORK/home-check, as ``run.py``
sets it up: ``greenpair config set model …``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import HERE, ROOT, ensure_clone, test_command
from localise import before_drafting, changed_lines, first_hit
from run import evaluate, load_tasks, prepare_scratch

PLAN_REQUEST = ("Before writing the edit: in one or two sentences, say what the test "
                "expects that the code above does not do, and which lines of the code must "
                "change. No code.")
AFTER_PLAN = "Now write the edit, in the format above."
PLAN_TOKENS = 120


def span(sc: Any) -> tuple[str, int, int]:
    """A shown item's file and lines."""
    return sc.chunk.path, sc.chunk.start_line, sc.chunk.end_line


def locations(fused: list[Any], gold: dict[str, set[int]], where: str, count: int) -> list[Any]:
    """The items drafted at: the first ``count`` of the fused list, or (``gold``) the first
    item that holds a changed line (none when no item does)."""
    if where == "gold":
        return [sc for sc in fused if first_hit([span(sc)], gold) is not None][:1]
    return fused[:count]


def alone_options(base: Any, tree: Path, sc: Any, runtime: Any, plan: bool) -> Any:
    """The draft's options with ``sc`` the only code shown (no suspects, no focus), the
    format fixed to the one the product chooses for it, and ``PLAN_REQUEST`` in the
    evidence when a plan is asked for (so the plan and the edit share the prompt)."""
    from greenpair.core.assistant.ask.context import pack_context
    from greenpair.core.assistant.patch.formats import choose_format

    packed = pack_context([sc], base.context_tokens, runtime.count_tokens, repo=tree,
                          max_snippet_tokens=base.max_snippet_tokens)
    fmt = choose_format(runtime.model_id, packed.snippets, evidence=bool(base.evidence))
    evidence = f"{base.evidence}\n\n{PLAN_REQUEST}" if plan else base.evidence
    return dataclasses.replace(base, suspects=[], focus_names=[], focus=False, followup=[],
                               format=fmt, evidence=evidence), packed


def ask_plan(request: str, opts: Any, packed: Any, runtime: Any) -> str:
    """The model's free-text answer to ``PLAN_REQUEST`` (greedy, no grammar), over exactly
    the messages the edit is then asked with."""
    from greenpair.core.assistant.patch.prompts import patch_messages

    messages = patch_messages(opts.format, packed.render(), f"{request}\n\n{opts.evidence}",
                              few_shot=opts.few_shot)
    return "".join(runtime.stream_chat(messages, max_tokens=PLAN_TOKENS, temperature=0.0))


def draft_alone(tree: Path, request: str, sc: Any, opts: Any, services: Any) -> Any:
    """One ``draft_patch`` with ``sc`` as the only code found."""
    from greenpair.core.assistant.patch.drafting import PatchDraft, draft_patch
    from greenpair.core.assistant.retriever import StaticRetriever

    draft = None
    for event in draft_patch(tree, request, runtime=services.runtime(),
                             index=StaticRetriever([sc]), options=opts, meter=services.meter):
        if isinstance(event, PatchDraft):
            draft = event
    assert draft is not None
    return draft


def try_location(tree: Path, task: dict[str, Any], steps: Any, sc: Any, args: Any,
                 services: Any, check_options: Any) -> dict[str, Any]:
    """Draft at ``sc`` (plus repairs), check each draft; judge a passing one."""
    from greenpair.core.assistant.check.repair import (
        RESAMPLE_TEMPERATURE,
        _worth_another_draft,
        check_draft,
        repair_message,
        unusable_message,
    )
    from greenpair.core.llm.runtime import Message

    runtime = services.runtime()
    opts, packed = alone_options(steps.base, tree, sc, runtime, args.plan)
    out: dict[str, Any] = {"path": sc.chunk.path, "lines": [sc.chunk.start_line,
                                                             sc.chunk.end_line],
                           "name": sc.chunk.symbol, "tries": []}
    started = time.monotonic()
    if args.plan:
        out["plan"] = ask_plan(steps.request, opts, packed, runtime)
        opts = dataclasses.replace(opts, followup=[Message("assistant", out["plan"]),
                                                   Message("user", AFTER_PLAN)])
    for attempt in range(1 + args.repairs):
        draft = draft_alone(tree, steps.request, sc, opts, services)
        entry: dict[str, Any] = {"seconds": round(time.monotonic() - started, 1),
                                 "prompt_tokens": draft.prompt_tokens, "diff": draft.diff}
        started = time.monotonic()
        out["tries"].append(entry)
        if draft.error or not draft.changes:
            entry["status"] = "no_patch"
            entry["error"] = draft.error
            if not draft.error or not _worth_another_draft(draft.error):
                break
            # as the product's loop: told why, sampled (greedy would write it again)
            opts = dataclasses.replace(opts, temperature=max(opts.temperature,
                                                             RESAMPLE_TEMPERATURE), followup=[
                *opts.followup, Message("assistant", draft.reply),
                Message("user", unusable_message(draft.error, steps.request))])
            continue
        result = check_draft(tree, draft, meter=services.meter, task=steps.request,
                             options=check_options, deadline=time.monotonic() + args.timeout,
                             attempt=attempt + 1)
        entry.update(status=result.status, passed=result.passed, failed=result.failed)
        if result.ok:
            judged = evaluate(tree, task, "failing_test", draft.diff, args.python,
                              args.timeout, result.to_json())
            prepare_scratch(tree, task, "failing_test")  # evaluate wrote the patch
            entry.update(resolved=judged["resolved"], false_passes=judged["false_passes"])
            break
        if result.status != "failed":
            break
        opts = dataclasses.replace(opts, followup=[
            *opts.followup, Message("assistant", draft.reply),
            Message("user", repair_message(tree, result, steps.request))])
    return out


def summarize(rows: list[dict[str, Any]]) -> str:
    """Tasks, drafts, usable drafts, checks passed, resolved, median seconds per draft."""
    tries = [t for r in rows for loc in r["locations"] for t in loc["tries"]]
    usable = [t for t in tries if t["status"] != "no_patch"]
    passed = [t for t in tries if t["status"] == "passed"]
    resolved = sum(1 for r in rows if any(t.get("resolved") for loc in r["locations"]
                                          for t in loc["tries"]))
    seconds = [t["seconds"] for t in tries]
    median = f"{statistics.median(seconds):.1f}" if seconds else "-"
    return ("| tasks | locations | drafts | usable | check passed | tasks resolved | "
            "median s per draft |\n|---|---|---|---|---|---|---|\n"
            f"| {len(rows)} | {sum(len(r['locations']) for r in rows)} | {len(tries)} | "
            f"{len(usable)} | {len(passed)} | {resolved} | {median} |")


def main() -> None:
    """Draft at each task's locations and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=Path, default=HERE / "tasks_two_lines.jsonl")
    ap.add_argument("--source", required=True, help="pytest's git repository, with history")
    ap.add_argument("--python", required=True, help="Python of the test venv")
    ap.add_argument("--work", type=Path, default=ROOT / ".bench" / "patch_bench")
    ap.add_argument("--home", type=Path, default=None,
                    help="Greenpair's data dir (model, threads); default WORK/home-check")
    ap.add_argument("--where", choices=("top", "gold"), default="top")
    ap.add_argument("--locations", type=int, default=3, help="Items drafted at (--where top)")
    ap.add_argument("--plan", action="store_true", help="Ask for a plan before the edit")
    ap.add_argument("--repairs", type=int, default=0, help="Drafts after a failed check")
    ap.add_argument("--timeout", type=float, default=180, help="Seconds per check")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None, help="One JSON row per task.")
    args = ap.parse_args()
    work = args.work.resolve()
    os.environ["GREENPAIR_HOME"] = str((args.home or work / "home-check").resolve())
    sys.path.insert(0, str(ROOT / "app"))
    from greenpair.core.assistant.check.checker import CheckOptions
    from greenpair.core.services import Services

    tree = ensure_clone(args.source, work / "tree-localise")
    services = Services.build()
    check_options = CheckOptions(test_command=test_command(args.python))
    rows = []
    for task in load_tasks(args.tasks, args.limit):
        steps = before_drafting(tree, task, services, check_options)
        gold = changed_lines(tree, task)
        row: dict[str, Any] = {
            "instance_id": task["instance_id"], "where": args.where, "plan": args.plan,
            "repairs": args.repairs, "model": services.runtime().model_id,
            "gold_rank": first_hit([span(sc) for sc in steps.fused], gold), "locations": []}
        for sc in locations(steps.fused, gold, args.where, args.locations):
            found = try_location(tree, task, steps, sc, args, services, check_options)
            found["gold"] = first_hit([span(sc)], gold) is not None
            row["locations"].append(found)
            if any(t.get("resolved") for t in found["tries"]):
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
