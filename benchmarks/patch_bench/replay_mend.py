"""Replay recorded drafts that broke the syntax through this checkout's parsing and
matching (``drafting.changes_from_reply``), and judge any that now give a change by the
task's tests, as ``run.py`` does. No model runs: the replies are the recorded ones.

    python benchmarks/patch_bench/replay_mend.py --source <the tasks' git repository> \\
        [--node-modules <node_modules with jest>] [--python <test venv python>] \\
        [--replies <file, default replies_syntax_breaks_2026-12-07.jsonl>] \\
        [--collect <run.py --replies folder> ...]

``--collect`` gathers, from folders that ``run.py --replies`` wrote, every reply whose
error was a syntax break into the ``--replies`` file (overwritten; one row each,
duplicates dropped), then replays them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import HERE, ROOT, ensure_clone, project_of
from run import evaluate, load_tasks, prepare_scratch, request_for

DEFAULT_REPLIES = HERE / "replies_syntax_breaks_2026-12-07.jsonl"


def collect(folders: list[Path], out: Path) -> int:
    """Write the syntax-breaking replies found in ``folders`` to ``out``; their count."""
    rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            reply = json.loads(path.read_text())
            if "breaks the syntax" not in str(reply.get("error") or ""):
                continue
            instance, mode, config = path.name[:-len(".json")].rsplit(".", 2)
            key = (instance, mode, config, reply["reply"])
            rows.setdefault(key, {"instance_id": instance, "mode": mode, "config": config,
                                  "model": reply.get("model"), "format": reply["format"],
                                  "error": reply["error"], "reply": reply["reply"],
                                  "recorded_in": folder.name})
    out.write_text("".join(json.dumps(r) + "\n" for r in rows.values()))
    return len(rows)


def all_tasks() -> dict[str, dict[str, Any]]:
    """Every task of every task list here, by its id."""
    return {t["instance_id"]: t for path in sorted(HERE.glob("tasks_*.jsonl"))
            for t in load_tasks(path)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", required=True, help="The tasks' repository, with history.")
    ap.add_argument("--replies", type=Path, default=DEFAULT_REPLIES)
    ap.add_argument("--collect", type=Path, nargs="*", default=[])
    ap.add_argument("--work", type=Path, default=ROOT / ".bench" / "replay_mend")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--node-modules", type=Path, default=None)
    ap.add_argument("--test-timeout", type=float, default=300.0)
    ap.add_argument("--out", type=Path, default=None, help="One JSON row per reply.")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "app"))
    from greenpair.core.assistant.patch.closers import MENDED
    from greenpair.core.assistant.patch.drafting import changes_from_reply
    from greenpair.core.errors import PatchError

    if args.collect:
        print(f"{collect(args.collect, args.replies)} replies collected into {args.replies}")
    replies = [json.loads(x) for x in args.replies.read_text().splitlines() if x.strip()]
    tasks = all_tasks()
    tree = ensure_clone(args.source, args.work.resolve() / "tree")
    rows = []
    for reply in replies:
        task = tasks[reply["instance_id"]]
        jest = project_of(task).runner == "jest"
        node_modules = args.node_modules if jest else None
        if jest and node_modules is None:
            ap.error("--node-modules: these tasks run their tests with jest")
        prepare_scratch(tree, task, reply["mode"], node_modules)
        row: dict[str, Any] = {k: reply[k] for k in ("instance_id", "mode", "config")}
        try:
            changes, diff = changes_from_reply(tree, reply["format"], reply["reply"],
                                               request_for(task, reply["mode"]))
        except PatchError as exc:
            row.update(usable=False, error=exc.message)
        else:
            row.update(usable=True, mended=any(MENDED in c.methods for c in changes),
                       files=[c.path for c in changes], diff=diff)
            row.update(evaluate(tree, task, reply["mode"], diff, args.python,
                                args.test_timeout, None, node_modules))
        rows.append(row)
        verdict = (f"usable (mended={row['mended']}), resolved={row['resolved']}, "
                   f"FAIL_TO_PASS {row['fail_to_pass']}, PASS_TO_PASS broken "
                   f"{row['pass_to_pass_broken']}") if row["usable"] else row["error"][:90]
        print(f"{row['instance_id']} {row['mode']} {row['config']}: {verdict}", flush=True)
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    usable = [r for r in rows if r["usable"]]
    print(f"\n{len(rows)} drafts that broke the syntax: {len(usable)} usable now "
          f"({sum(r['mended'] for r in usable)} mended), "
          f"{sum(r['resolved'] for r in usable)} resolve their task, "
          f"{sum(not r['pass_to_pass_broken'] for r in usable)} break no PASS_TO_PASS test")


if __name__ == "__main__":
    main()
