"""Run Greenpair on the patch benchmark's tasks and judge each patch by the tests.

For every task (``tasks_pytest.jsonl``, built by ``build_tasks.py``), every mode and every
config, interleaved (task 1 all modes x configs, then task 2, ...):

1. a scratch checkout of the task's parent (one reused tree, reset each time, so the
   product's index only re-reads the files that changed between tasks);
   * ``hidden``: the commit's tests are NOT in the tree; the request is the commit message;
   * ``failing_test``: the commit's test changes are applied; the request names the
     failing test ("Make `testing/test_x.py::test_y` pass.");
2. ``greenpair patch REQUEST --repo TREE --json [--check|--no-check] [--test-command CMD]``
   with ``GREENPAIR_HOME`` set to the config's scratch home, where ``greenpair config set``
   chose the model and the thread count (same for every config; the reply's token budget
   is the product's default for all);
3. the returned diff is applied, then the commit's version of every test path is put in
   place (a patch may not edit the tests that judge it), and the benchmark runs the
   touched test files itself: resolved = every FAIL_TO_PASS passes and no PASS_TO_PASS
   breaks;
4. false passes: tests the product reported as passed (``check.tests_run``) that fail in
   the benchmark's run, and in ``failing_test`` mode a check status "passed" while the
   named test does not pass.

Configs: ``nocheck`` (today's patch), ``check`` (check + repair: needs ``--check`` in the
CLI; recorded as unavailable otherwise), ``eco`` (the eco model, with the check when the
CLI has it). Results go to a JSONL (one row per task x mode x config, resumable) and a
summary table.

    nice -n 15 .venv/bin/python benchmarks/patch_bench/run.py --source PYTEST_GIT \\
        --python TESTVENV/bin/python [--config nocheck,check,eco] [--limit 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import (
    HERE,
    ROOT,
    Judgement,
    TestRun,
    apply_diff,
    checkout_clean,
    ensure_clone,
    false_passes,
    git,
    judge,
    link_node_modules,
    prepare_tree,
    project_of,
    run_tests,
    test_command,
    test_file_of,
)

MODES = ("hidden", "failing_test")
CONFIGS = ("nocheck", "check", "eco")
DEFAULT_MODEL = "qwen2.5-coder-1.5b"
ECO_MODEL = "qwen2.5-coder-0.5b"


def load_tasks(path: Path, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """Tasks of a JSONL file, each checked for the keys the runner needs."""
    need = {"instance_id", "commit", "parent", "request", "test_files", "test_patch",
            "FAIL_TO_PASS", "PASS_TO_PASS"}
    tasks = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        task = json.loads(line)
        missing = need - task.keys()
        if missing:
            raise ValueError(f"{path}:{number}: task lacks {', '.join(sorted(missing))}")
        if not task["FAIL_TO_PASS"]:
            raise ValueError(f"{path}:{number}: task has no FAIL_TO_PASS")
        tasks.append(task)
    tasks = tasks[offset:]
    return tasks[:limit] if limit else tasks


def request_for(task: dict[str, Any], mode: str) -> str:
    """What the user asks: the commit message, or "make the failing test pass"."""
    if mode == "hidden":
        return str(task["request"])
    named, *rest = task["FAIL_TO_PASS"]
    text = f"Make `{named}` pass."
    if rest:
        shown = ", ".join(f"`{t}`" for t in rest[:3])
        more = f" and {len(rest) - 3} more" if len(rest) > 3 else ""
        text += f" Also failing: {shown}{more}."
    return text


def testing_paths(task: dict[str, Any]) -> list[str]:
    """Every path the commit's test patch touches."""
    paths = []
    for line in str(task["test_patch"]).splitlines():
        if line.startswith("diff --git a/"):
            paths.append(line.split(" b/", 1)[-1].strip())
    return paths or list(task["test_files"])


def put_commit_tests(tree: Path, task: dict[str, Any]) -> None:
    """Make every test path exactly the commit's version (deleted where the commit has none)."""
    for path in testing_paths(task):
        kind = git(tree, "cat-file", "-t", f"{task['commit']}:{path}", check=False).strip()
        if kind == "blob":
            git(tree, "checkout", task["commit"], "--", path)
        elif (tree / path).exists():
            (tree / path).unlink()


def prepare_scratch(tree: Path, task: dict[str, Any], mode: str,
                    node_modules: Path | None = None) -> None:
    """The parent, plus the commit's tests in the failing-test mode."""
    checkout_clean(tree, task["parent"])
    prepare_tree(tree)
    link_node_modules(tree, node_modules)
    if mode == "failing_test":
        put_commit_tests(tree, task)


def reported_tests(check: dict[str, Any] | None) -> dict[str, str]:
    """``{test: status}`` from the product's ``check.tests_run`` (list or mapping)."""
    if not isinstance(check, dict):
        return {}
    if isinstance(check.get("outcomes"), dict):  # each test's own verdict, when given
        return {str(k): str(v) for k, v in check["outcomes"].items()}
    runs = check.get("tests_run") or {}
    if isinstance(runs, dict):
        return {str(k): str(v) for k, v in runs.items()}
    out = {}
    for item in runs:
        if isinstance(item, dict):
            name = next((item[k] for k in ("nodeid", "name", "id", "test") if k in item), None)
            status = next((item[k] for k in ("status", "outcome", "result") if k in item), "")
            if name:
                out[str(name)] = str(status)
        elif isinstance(item, str):
            out[item] = "passed"  # a bare list names tests that ran; the check says passed
    return out


def evaluate(tree: Path, task: dict[str, Any], mode: str, diff: str, python: str,
             timeout_s: float, check: dict[str, Any] | None,
             node_modules: Path | None = None) -> dict[str, Any]:
    """Apply ``diff``, put the commit's tests in place, run them, judge."""
    row: dict[str, Any] = {"applied": False, "resolved": False, "false_passes": []}
    error = apply_diff(tree, diff) if diff.strip() else "no diff"
    row["apply_error"] = error
    if error is None:
        row["applied"] = True
    reported = reported_tests(check)
    checked: TestRun | None = None
    passed_files = sorted({test_file_of(n) for n, v in reported.items() if v == "passed"})
    if mode == "hidden" and row["applied"] and passed_files:
        # The tests as the tool ran them, on the tree it checked: the commit's tests may
        # give a test the same id and another body (pytest's own did so, 13 ids at once).
        checked = run_tests(python, tree, passed_files, timeout_s, node_modules=node_modules)
        if not checked.outcomes:  # names not found from this root: judge by id, as before
            checked = None
    put_commit_tests(tree, task)
    run = run_tests(python, tree, list(task["test_files"]), timeout_s,
                    node_modules=node_modules)
    verdict: Judgement = judge(run, task["FAIL_TO_PASS"], task["PASS_TO_PASS"])
    row.update(resolved=verdict.resolved and row["applied"],
               fail_to_pass=f"{verdict.fail_to_pass_passed}/{verdict.fail_to_pass_total}",
               pass_to_pass_broken=len(verdict.pass_to_pass_broken),
               test_seconds=run.seconds, test_timed_out=run.timed_out)
    status = check.get("status") if isinstance(check, dict) else None
    named = task["FAIL_TO_PASS"][0] if mode == "failing_test" else None
    verdict_of = str(status) if status else None
    row["false_passes"] = false_passes(reported, checked if checked is not None else run,
                                       mode, named, verdict_of)
    if checked is not None:  # for the record: what a judge by id alone would have said
        row["by_id_after_commit_tests"] = [
            n for n in false_passes(reported, run, mode, named, verdict_of)
            if n not in row["false_passes"]]
    return row


def cli_supports_check(greenpair: list[str], env: dict[str, str]) -> bool:
    """Whether this checkout's ``greenpair patch`` has ``--check``."""
    proc = subprocess.run([*greenpair, "patch", "--help"], capture_output=True, text=True,
                          env=env, check=False)
    return "--check" in proc.stdout


def make_home(work: Path, config: str, model: str, threads: int, models_dir: Path,
              greenpair: list[str], base_env: dict[str, str]) -> dict[str, str]:
    """A scratch data directory for ``config`` (models linked, indexes shared)."""
    home = work / f"home-{config}"
    home.mkdir(parents=True, exist_ok=True)
    shared = work / "indexes"
    shared.mkdir(exist_ok=True)
    for name, target in (("models", models_dir), ("indexes", shared)):
        link = home / name
        if not link.exists():
            link.symlink_to(target.resolve(), target_is_directory=True)
    env = {**base_env, "GREENPAIR_HOME": str(home)}
    for key, value in (("model", model), ("threads", str(threads))):
        subprocess.run([*greenpair, "config", "set", key, value], env=env, check=True,
                       capture_output=True, text=True)
    return env


def call_greenpair(greenpair: list[str], env: dict[str, str], tree: Path, request: str,
                   check: bool, check_cmd: str | None, timeout_s: float) -> dict[str, Any]:
    """One ``greenpair patch --json``; the parsed reply plus seconds (or an error)."""
    cmd = [*greenpair, "patch", "--repo", str(tree), "--json"]
    if check:
        cmd.append("--check")
        if check_cmd:
            cmd += ["--test-command", check_cmd]
    cmd += ["--", request]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s,
                              check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"seconds": round(time.monotonic() - start, 1), "error": "timeout", "diff": ""}
    seconds = round(time.monotonic() - start, 1)
    out = proc.stdout.strip()
    reply: dict[str, Any]
    try:
        reply = json.loads(out[out.index("{"):]) if "{" in out else {}
    except ValueError:
        reply = {}
    if not reply:
        reply = {"error": "no JSON reply: " + (proc.stderr.strip()[-300:] or out[-300:])}
    reply["seconds"] = seconds
    reply["exit_code"] = proc.returncode
    return reply


def run_one(task: dict[str, Any], mode: str, config: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """One task in one mode under one config: draft, apply, judge."""
    tree: Path = ctx["trees"][project_of(task).name]
    runner = project_of(task).runner
    node_modules = ctx["node_modules"] if runner == "jest" else None
    prepare_scratch(tree, task, mode, node_modules)
    with_check = config == "check" or (config == "eco" and ctx["has_check"])
    reply = call_greenpair(ctx["greenpair"], ctx["envs"][config], tree,
                           request_for(task, mode), with_check,
                           # jest, go: Greenpair finds the runner and the tests itself
                           ctx["check_cmd"] if runner == "pytest" else None,
                           ctx["timeout"])
    if ctx.get("replies"):  # the whole reply (draft text, diff, check output), to read later
        keep = ctx["replies"] / f"{task['instance_id']}.{mode}.{config}.json"
        keep.write_text(json.dumps(reply, indent=2))
    check = reply.get("check") if isinstance(reply.get("check"), dict) else None
    diff = str(reply.get("diff") or "") if not reply.get("error") else ""
    row = {"instance_id": task["instance_id"], "mode": mode, "config": config,
           "model": reply.get("model"), "seconds": reply["seconds"],
           "joules": reply.get("energy_j"), "energy_estimated": reply.get("energy_estimated"),
           # the whole request (every draft, check and the run before drafting); the
           # reply's energy_j is the shown draft's alone
           "check_joules": check.get("total_joules") if check else None,
           "tries": check.get("tries") if check else None,
           "check_status": check.get("status") if check else None,
           "error": reply.get("error"), "files": reply.get("files")}
    row.update(evaluate(tree, task, mode, diff, ctx["python"], ctx["test_timeout"], check,
                        node_modules))
    return row


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "-"


def summarize(rows: list[dict[str, Any]]) -> str:
    """A Markdown table: per mode x config resolved rate, medians, tries, false passes."""
    lines = ["| mode | config | tasks | resolved | applied | median s | median J | "
             "median tries | false passes | no patch (timeouts) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for mode in MODES:
        for config in CONFIGS:
            sel = [r for r in rows if r["mode"] == mode and r["config"] == config]
            if not sel:
                continue
            if all(r.get("unavailable") for r in sel):
                lines.append(f"| {mode} | {config} | 0 | unavailable: "
                             f"{sel[0]['unavailable']} | | | | | | |")
                continue
            sel = [r for r in sel if not r.get("unavailable")]
            res = sum(bool(r["resolved"]) for r in sel)
            app = sum(bool(r["applied"]) for r in sel)
            joules = [float(r["check_joules"]) if r.get("check_joules") is not None
                      else float(r["joules"]) for r in sel
                      if r.get("joules") is not None or r.get("check_joules") is not None]
            tries = [float(r["tries"]) for r in sel if r.get("tries") is not None]
            fp = sum(len(r["false_passes"]) for r in sel)
            errors = sum(bool(r.get("error")) for r in sel)
            timeouts = sum(r.get("error") == "timeout" for r in sel)
            lines.append(f"| {mode} | {config} | {len(sel)} | {res} ({100 * res / len(sel):.0f}%)"
                         f" | {app} | {_median([r['seconds'] for r in sel])} | "
                         f"{_median(joules)} | {_median(tries)} | {fp} | {errors} ({timeouts}) |")
    return "\n".join(lines)


def default_models_dir(greenpair: list[str], env: dict[str, str]) -> Path:
    """The product's own models directory (the user's data dir, not the scratch home)."""
    code = "from greenpair.core.config import models_dir; print(models_dir())"
    out = subprocess.run([greenpair[0], "-c", code], env=env, capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise SystemExit(f"{greenpair[0]} cannot import greenpair; run this script with the "
                         "project's Python (.venv/bin/python benchmarks/patch_bench/run.py), "
                         "or pass --models-dir.")
    return Path(out.stdout.strip())


def main() -> None:
    """Parse options, set up the homes, run the interleaved loop, print the summary."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=Path, default=HERE / "tasks_pytest.jsonl")
    ap.add_argument("--source", action="append", default=[],
                    help="The tasks' git repository with its history (default for pytest: "
                         "../shared/bench/repos/pytest beside the repository root); "
                         "NAME=PATH gives one project's (tasks_go.jsonl: mux=… pflag=…).")
    ap.add_argument("--work", type=Path, default=ROOT / ".bench" / "patch_bench")
    ap.add_argument("--python", default=None,
                    help="Python of the test venv (default: WORK/venv/bin/python).")
    ap.add_argument("--mode", default=",".join(MODES))
    ap.add_argument("--config", default="nocheck,check,eco")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--eco-model", default=ECO_MODEL)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=900.0, help="Seconds per patch call.")
    ap.add_argument("--test-timeout", type=float, default=300.0)
    ap.add_argument("--models-dir", type=Path, default=None)
    ap.add_argument("--node-modules", type=Path, default=None,
                    help="node_modules with jest installed (JavaScript tasks).")
    ap.add_argument("--out", type=Path, default=None, help="Results JSONL (appended).")
    ap.add_argument("--replies", type=Path, default=None,
                    help="Keep each call's whole JSON reply in this folder "
                         "(<instance>.<mode>.<config>.json).")
    ap.add_argument("--summary-only", action="store_true",
                    help="Print the table of the rows already in --out; run nothing.")
    args = ap.parse_args()
    if args.summary_only:
        out = args.out or args.work / "results.jsonl"
        print(summarize([json.loads(x) for x in out.read_text().splitlines() if x.strip()]))
        return

    tasks = load_tasks(args.tasks, args.limit, args.offset)
    modes = [m for m in args.mode.split(",") if m]
    configs = [c for c in args.config.split(",") if c]
    for bad in set(modes) - set(MODES) | set(configs) - set(CONFIGS):
        ap.error(f"unknown mode or config: {bad}")
    work = args.work.resolve()
    python = args.python or str(work / "venv" / "bin" / "python")
    if args.node_modules is None and any(project_of(t).runner == "jest" for t in tasks):
        ap.error("--node-modules: these tasks run their tests with jest (see README.md)")
    sources: dict[str, str] = {}
    for item in args.source:
        name, sep, path = item.partition("=")
        sources[name if sep else ""] = path if sep else item
    shared = ROOT.parent / "shared" / "bench" / "repos" / "pytest"
    if shared.exists():
        sources.setdefault("pytest", str(shared))
    projects = {project_of(t).name: t for t in tasks}  # each project's first task
    trees: dict[str, Path] = {}
    for name, first in projects.items():
        source = sources.get(name) or sources.get("", "")
        if not source:
            ap.error(f"--source {name}=PATH: a clone of {first.get('repo')} with its history "
                     f"(snapshot {first.get('snapshot')})")
        # one reused tree per project (one project: "tree", as before)
        trees[name] = ensure_clone(source, work / ("tree" if len(projects) == 1
                                                   else f"tree-{name}"))
    base_env = {**os.environ, "PYTHONPATH": str(ROOT / "app")}
    base_env.pop("GREENPAIR_HOME", None)
    greenpair = [sys.executable, "-m", "greenpair"]
    models = args.models_dir or default_models_dir(greenpair, base_env)
    has_check = cli_supports_check(greenpair, base_env)
    envs, unavailable = {}, {}
    for config in configs:
        model = args.eco_model if config == "eco" else args.model
        if config == "check" and not has_check:
            unavailable[config] = "this checkout's `greenpair patch` has no --check"
        elif not (models / f"{model}.gguf").exists():
            unavailable[config] = f"model {model} is not in {models}"
        else:
            envs[config] = make_home(work, config, model, args.threads, models, greenpair,
                                     base_env)
    ctx = {"trees": trees, "greenpair": greenpair, "envs": envs, "has_check": has_check,
           "check_cmd": test_command(python), "python": python,
           "node_modules": args.node_modules,
           "timeout": args.timeout, "test_timeout": args.test_timeout,
           "replies": args.replies.resolve() if args.replies else None}
    if args.replies:
        args.replies.mkdir(parents=True, exist_ok=True)
    out = args.out or work / "results.jsonl"
    done = set()
    rows: list[dict[str, Any]] = []
    if out.is_file():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            rows.append(r)
            done.add((r["instance_id"], r["mode"], r["config"]))
    ids = {t["instance_id"] for t in tasks}
    for task in tasks:
        for mode in modes:
            for config in configs:
                if (task["instance_id"], mode, config) in done:
                    continue
                if config in unavailable:
                    row = {"instance_id": task["instance_id"], "mode": mode, "config": config,
                           "unavailable": unavailable[config]}
                else:
                    row = run_one(task, mode, config, ctx)
                rows.append(row)
                with out.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                print(json.dumps({k: row.get(k) for k in (
                    "instance_id", "mode", "config", "resolved", "applied", "seconds",
                    "joules", "tries", "false_passes", "error", "unavailable")}), flush=True)
    print(summarize([r for r in rows if r["instance_id"] in ids]))


if __name__ == "__main__":
    main()
