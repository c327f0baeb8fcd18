"""Patches for real requests: commit messages of the shared localization sets.

Tasks: commits of ``../shared/bench/localization/<set>.jsonl`` whose message names a
function, class or method (``targets.named_identifiers``) that is defined in one of at
most two gold (changed, non-doc) files — the change plausibly sits in one or two
definitions. Task = the whole commit message; corpus = ``.cache/corpora/<set>`` and its
index; nothing is written (drafts are checked, not applied). There are no commit diffs,
so correctness of the change itself is not judged; what is measured:

* well-formed: the reply parses in its edit format (cut-off replies count as not, unless
  the product closed the block where the model's text shows it ends — ``run_on``: where a
  REPLACE part began copying the following lines, or after the methods a class rewrite
  finished; the "closed" column counts those);
* applies: matched, ``git apply --check``, no new tree-sitter errors and more than a
  whitespace change (``draft.error`` is None after the product's own retry);
* gold: the patch edits a gold file;
* parses: every changed file parses without errors it did not have before;
* median seconds and joules per patch (the meter's window; estimated where no sensor).

Two settings, each with its own runtime of the same model, both warmed before timing,
interleaved task by task on the first ``--baseline`` tasks:

* new: ``PatchOptions()`` — grammar-constrained reply, the named definitions shown whole,
  every core (``--threads``, the thread policy's choice on an idle machine);
* today: the defaults before issue 13 — no grammar, packed retrieval context, physical
  cores − 1 threads.

    nice .venv/bin/python benchmarks/patch_real.py [--sets pytest-9.0.2,rxjs-7.8.2]
        [--limit 30] [--baseline 10] [--threads 2] [--json OUT]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from pathlib import Path
from typing import Any

from bench_paths import BENCH, CORPORA, corpus

DOC_SUFFIXES = (".md", ".rst", ".txt", ".toml", ".json", ".yml", ".yaml")



@functools.cache
def _meter() -> Any:
    """One energy meter for this benchmark run (as an entry point's Services has)."""
    from greenpair.core.energy.meter import Meter

    return Meter()

def select_tasks(sets: list[str], limit: int) -> list[dict[str, Any]]:
    """Commits whose message names a definition found in a gold file, round-robin by set."""
    from greenpair.core.assistant.patch.editing import definition_spans
    from greenpair.core.assistant.patch.targets import named_identifiers
    from greenpair.core.repo.languages import detect_language

    per_set: list[list[dict[str, Any]]] = []
    for name in sets:
        picked = []
        for line in (BENCH / f"{name}.jsonl").read_text().splitlines():
            q = json.loads(line)
            gold = [g for g in q["gold"] if not g.endswith(DOC_SUFFIXES)]
            if not gold or len(gold) > 2:
                continue
            names = named_identifiers(q["query"])
            hits = []
            for g in gold:
                path = CORPORA / name / g
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                hits += [(g, n) for n in names if definition_spans(detect_language(g), text, n)]
            if hits:
                picked.append({"id": q["id"], "set": name, "task": q["query"].strip(),
                               "gold": gold, "named": hits})
        per_set.append(picked)
    out: list[dict[str, Any]] = []
    while len(out) < limit and any(per_set):
        for picked in per_set:
            if picked and len(out) < limit:
                out.append(picked.pop(0))
    return out


def _parses(changes: list[Any]) -> bool:
    from greenpair.core.repo.languages import detect_language, parse

    for c in changes:
        lang = detect_language(c.path)
        after = parse(lang, c.after.decode("utf-8", "replace")) if lang else None
        if after is None:
            continue
        before = parse(lang, c.before.decode("utf-8", "replace")) if c.before else None
        if after.root_node.has_error and not (before is not None and before.root_node.has_error):
            return False
    return True


def run_task(runtime: Any, index: Any, task: dict[str, Any], options: Any) -> dict[str, Any]:
    from greenpair.core.assistant.patch.drafting import PatchDraft, Token, draft_patch
    from greenpair.core.assistant.patch.edits import parse_edits
    from greenpair.core.errors import PatchError

    t0 = time.perf_counter()
    draft = None
    streamed: list[str] = []  # every attempt's tokens, before a cut-off reply is trimmed
    for event in draft_patch(CORPORA / task["set"], task["task"], runtime=runtime, index=index,
                             options=options, meter=_meter()):
        if isinstance(event, PatchDraft):
            draft = event
        elif isinstance(event, Token):
            streamed.append(event.text)
    assert draft is not None
    try:
        parse_edits(draft.format, draft.reply)
        wellformed = bool(draft.reply)
    except PatchError:
        wellformed = False
    e = draft.energy
    return {
        "id": task["id"], "format": draft.format, "wellformed": wellformed,
        "applies": draft.error is None, "gold": bool(set(draft.files) & set(task["gold"])),
        "parses": draft.error is None and _parses(draft.changes),
        "cut_off": draft.stop_reason in {"length", "repetition"},
        "closed": draft.closed_cut_off,
        "seconds": time.perf_counter() - t0,
        "joules": None if e is None else e.joules, "estimated": None if e is None else e.estimated,
        "prompt_tokens": draft.prompt_tokens, "completion_tokens": draft.completion_tokens,
        "attempts": draft.attempts, "files": draft.files, "error": draft.error,
        "reply": draft.reply, "streamed": "".join(streamed), "stop_reason": draft.stop_reason,
    }


def report(label: str, rows: list[dict[str, Any]]) -> None:
    """One line of shares and medians."""
    n = len(rows)
    if not n:
        return

    def share(key: str) -> str:
        return f"{sum(1 for r in rows if r[key])}/{n}"

    joules = [r["joules"] for r in rows if r["joules"] is not None]
    est = "~" if any(r["estimated"] for r in rows) else ""
    print(f"{label:22}{share('wellformed'):>8}{share('applies'):>8}{share('gold'):>8}"
          f"{share('parses'):>8}{share('cut_off'):>8}{share('closed'):>8}"
          f"{statistics.median(r['seconds'] for r in rows):9.1f}"
          f"{(est + format(statistics.median(joules), '.0f')) if joules else '-':>8}"
          f"{statistics.mean(r['prompt_tokens'] for r in rows):9.0f}"
          f"{statistics.mean(r['completion_tokens'] for r in rows):7.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="pytest-9.0.2,rxjs-7.8.2")
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--baseline", type=int, default=10,
                        help="Run today's default on the first N tasks too.")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--list", action="store_true", help="Print the tasks and stop.")
    parser.add_argument("--only", default="",
                        help="Comma-separated task ids: run just these (of the selected tasks).")
    args = parser.parse_args()

    from greenpair.core.assistant.patch.drafting import PatchOptions
    from greenpair.core.config import physical_cores
    from greenpair.core.index import open_index
    from greenpair.core.llm.manager import open_runtime
    from greenpair.core.llm.runtime import Message

    tasks = select_tasks(args.sets.split(","), args.limit)
    if args.only:
        wanted = set(args.only.split(","))
        tasks = [t for t in tasks if t["id"] in wanted]
    if args.list:
        for t in tasks:
            print(t["id"], t["named"], t["task"].splitlines()[0][:90])
        return
    indexes = {}
    for name in dict.fromkeys(t["set"] for t in tasks):
        indexes[name] = open_index(corpus(name))
        for _ in indexes[name].update():
            pass
    settings = {
        "new": (open_runtime(args.model, n_threads=args.threads, seed=0), PatchOptions()),
        "today": (open_runtime(args.model, n_threads=max(1, physical_cores() - 1), seed=0),
                  PatchOptions(grammar=False, focus=False)),
    }
    for rt, _ in settings.values():
        rt.load()
        list(rt.stream_chat([Message("user", "Say hi.")], max_tokens=4))
    print(f"{len(tasks)} tasks ({args.sets}); today's default on the first {args.baseline}; "
          f"{args.model}; new {args.threads} threads, today {settings['today'][0].n_threads}",
          flush=True)
    rows: dict[str, list[dict[str, Any]]] = {"new": [], "today": []}
    for i, task in enumerate(tasks):
        names = ["new", "today"] if i < args.baseline else ["new"]
        if i % 2:
            names.reverse()
        for name in names:
            rt, options = settings[name]
            r = run_task(rt, indexes[task["set"]], task, options)
            rows[name].append(r)
            print(f"  [{name:5}] {task['id']:22} {r['format']:14} wf={int(r['wellformed'])} "
                  f"ap={int(r['applies'])} gold={int(r['gold'])} parse={int(r['parses'])} "
                  f"{'closed ' if r['closed'] else ''}"
                  f"{r['seconds']:6.1f}s {r['prompt_tokens']:5d}+{r['completion_tokens']:<4d} "
                  f"{(r['error'] or '')[:70]}", flush=True)
    print(f"\n{'setting':22}{'wf':>8}{'applies':>8}{'gold':>8}{'parses':>8}{'cut':>8}{'closed':>8}"
          f"{'med s':>9}{'med J':>8}{'prompt':>9}{'gen':>7}")
    report("new (all tasks)", rows["new"])
    report(f"new (first {args.baseline})", rows["new"][:args.baseline])
    report(f"today (first {args.baseline})", rows["today"])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    for rt, _ in settings.values():
        rt.unload()
    for index in indexes.values():
        index.close()


if __name__ == "__main__":
    main()
