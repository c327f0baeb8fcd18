"""Build the patch benchmark's task list from pytest's history (ground truth by running).

Recipe (reproducible: same snapshot, same filter, same environment -> same list):

1. Candidates: non-merge commits reachable from ``--snapshot`` since ``--since`` that change
   1..``--max-src-files`` files under ``src/_pytest/`` with at most ``--max-src-lines``
   added+deleted lines there, change nothing else under ``src/`` and no packaging file
   (``pyproject.toml``, ``setup.cfg``, ``setup.py``, ``tox.ini``), and change at least one
   test file under ``testing/`` (pytest's ``python_files``). Newest first.
2. For each candidate, in a scratch clone: check out the parent, apply the commit's test
   changes (everything it changes under ``testing/``), run the touched test files with the
   parent's own pytest (``PYTHONPATH=src``); then check out the commit and run them again.
3. FAIL_TO_PASS = tests of the touched files that do not pass on parent+tests (failed, or
   missing because the module did not collect) and pass on the commit. PASS_TO_PASS = tests
   that pass on both. Candidates without FAIL_TO_PASS, or whose runs time out, are dropped
   (the reason is logged in ``--log``).

Environment: one venv of pytest's test dependencies from PyPI (iniconfig, pluggy,
packaging, pygments, attrs, hypothesis, mock, requests, setuptools, xmlschema,
argcomplete), Python 3.11; each checkout runs from ``src`` with a generated ``_version.py``.

    nice -n 15 python benchmarks/patch_bench/build_tasks.py --source PATH_OR_URL \\
        --work DIR --python DIR/venv/bin/python [--since 2024-06-01] [--target 45]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import HERE, PROJECTS, ROOT, Project, checkout_clean, ensure_clone, git, run_tests


def numstat(repo: Path, commit: str) -> list[tuple[int, int, str]]:
    """(added, deleted, path) of a commit against its first parent; binary counts 0."""
    rows = []
    for line in git(repo, "show", "--format=", "--numstat", commit).splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        add, dele, path = parts
        rows.append((int(add) if add.isdigit() else 0, int(dele) if dele.isdigit() else 0,
                     path))
    return rows


def candidates(repo: Path, snapshot: str, since: str, max_files: int,
               max_lines: int, project: Project = PROJECTS["pytest"]) -> list[dict[str, Any]]:
    """Commits passing the cheap filter (step 1), newest first."""
    out = []
    log = git(repo, "log", "--no-merges", f"--since={since}", "--format=%H %P", snapshot)
    for line in log.splitlines():
        commit, *parents = line.split()
        if len(parents) != 1:
            continue
        rows = numstat(repo, commit)
        src = [(a, d, p) for a, d, p in rows if project.source(p)]
        other_src = [p for _, _, p in rows if p.startswith("src/") and
                     not project.source(p)]
        tests = [p for _, _, p in rows if project.is_test_file(p)]
        if (not src or len(src) > max_files or other_src or not tests
                or any(p in project.packaging for _, _, p in rows)
                or sum(a + d for a, d, _ in src) > max_lines):
            continue
        out.append({"commit": commit, "parent": parents[0],
                    "source_files": [p for _, _, p in src],
                    "source_lines": sum(a + d for a, d, _ in src),
                    "test_files": tests,
                    "testing_paths": [p for _, _, p in rows if project.test_path(p)]})
    return out


def request_text(repo: Path, commit: str) -> str:
    """The commit message's first paragraph (subject plus the body's first paragraph)."""
    msg = git(repo, "show", "-s", "--format=%B", commit).strip()
    paras = [p.strip() for p in msg.split("\n\n") if p.strip()]
    return "\n\n".join(paras[:2]) if len(paras) > 1 and len(paras[0]) < 80 else paras[0]


def build_one(repo: Path, cand: dict[str, Any], python: str, timeout_s: float,
              source: str, snapshot: str, project: Project = PROJECTS["pytest"],
              node_modules: Path | None = None) -> tuple[dict[str, Any] | None, str]:
    """Run step 2-3 for one candidate; (task, "") or (None, reason)."""
    commit, parent = cand["commit"], cand["parent"]
    test_patch = git(repo, "diff", "--binary", parent, commit, "--", *cand["testing_paths"])
    files = [f for f in cand["test_files"]
             if git(repo, "cat-file", "-t", f"{commit}:{f}", check=False).strip() == "blob"]
    if not files:
        return None, "test files deleted"
    checkout_clean(repo, parent)
    git(repo, "apply", "--binary", input_text=test_patch)
    before = run_tests(python, repo, files, timeout_s, node_modules=node_modules)
    if before.timed_out:
        return None, f"parent run timed out ({timeout_s:.0f}s)"
    checkout_clean(repo, commit)
    after = run_tests(python, repo, files, timeout_s, node_modules=node_modules)
    if after.timed_out:
        return None, f"commit run timed out ({timeout_s:.0f}s)"
    if not after.outcomes:
        return None, "nothing ran on the commit: " + after.tail[-300:]
    ok_before, ok_after = before.passed(), after.passed()
    f2p = sorted(ok_after - ok_before)
    p2p = sorted(ok_after & ok_before)
    if not f2p:
        return None, "no FAIL_TO_PASS"
    subject = git(repo, "show", "-s", "--format=%s", commit).strip()
    task = {
        "instance_id": f"{project.name}-{commit[:12]}",
        "repo": project.repo, "source": f"github:{project.repo}", "snapshot": snapshot,
        "commit": commit, "parent": parent, "subject": subject,
        "request": request_text(repo, commit),
        "source_files": cand["source_files"], "source_lines": cand["source_lines"],
        "test_files": files,
        "test_patch_ref": f"git diff {parent} {commit} -- {' '.join(cand['testing_paths'])}",
        "test_patch": test_patch,
        "FAIL_TO_PASS": f2p, "PASS_TO_PASS": p2p,
        "seconds_parent": before.seconds, "seconds_commit": after.seconds,
    }
    return task, ""


def main() -> None:
    """Build ``tasks_<project>.jsonl``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", choices=sorted(PROJECTS), default="pytest",
                    help="Whose history (default: pytest).")
    ap.add_argument("--source", required=True, help="The project's git repository (path or URL).")
    ap.add_argument("--snapshot", default="origin/HEAD",
                    help="Newest commit considered (pin it to rebuild the same list).")
    ap.add_argument("--work", type=Path, default=ROOT / ".bench" / "patch_bench")
    ap.add_argument("--python", default="",
                    help="Python of the test-dependency venv (Python projects).")
    ap.add_argument("--node-modules", type=Path, default=None,
                    help="node_modules with jest installed (JavaScript projects).")
    ap.add_argument("--since", default="2024-06-01")
    ap.add_argument("--max-src-files", type=int, default=2)
    ap.add_argument("--max-src-lines", type=int, default=40)
    ap.add_argument("--target", type=int, default=45, help="Stop after this many tasks.")
    ap.add_argument("--timeout", type=float, default=240.0, help="Seconds per test run.")
    ap.add_argument("--out", type=Path, default=None,
                    help="The task list (default: tasks_<project>.jsonl beside this script).")
    ap.add_argument("--log", type=Path, default=None, help="JSONL of every candidate's fate.")
    args = ap.parse_args()
    project = PROJECTS[args.project]
    if project.runner == "jest" and args.node_modules is None:
        ap.error(f"{project.name} runs its tests with jest: give --node-modules")
    if project.runner == "go" and shutil.which("go") is None:
        ap.error(f"{project.name} runs its tests with go: install it (golang-go)")
    if project.runner == "pytest" and not args.python:
        ap.error(f"{project.name} runs its tests with pytest: give --python")
    node_modules = args.node_modules if project.runner == "jest" else None
    args.out = args.out or HERE / f"tasks_{project.name}.jsonl"

    tree = "build-tree" if project.name == "pytest" else f"build-tree-{project.name}"
    repo = ensure_clone(args.source, args.work / tree)
    snapshot = git(repo, "rev-parse", args.snapshot).strip()
    cands = candidates(repo, snapshot, args.since, args.max_src_files, args.max_src_lines,
                       project)
    print(f"{len(cands)} candidates since {args.since} up to {snapshot[:12]}", flush=True)
    done = {}
    if args.out.is_file():  # resume: keep tasks already built from the same snapshot
        for line in args.out.read_text().splitlines():
            t = json.loads(line)
            if t["snapshot"] == snapshot:
                done[t["commit"]] = t
    seen = set(done)
    if args.log and args.log.is_file():
        seen |= {json.loads(x)["commit"] for x in args.log.read_text().splitlines()}
    tasks = list(done.values())
    for cand in cands:
        if len(tasks) >= args.target:
            break
        if cand["commit"] in seen:
            continue
        start = time.monotonic()
        try:
            task, reason = build_one(repo, cand, args.python, args.timeout, args.source,
                                     snapshot, project, node_modules)
        except RuntimeError as exc:
            task, reason = None, str(exc)[:300]
        took = time.monotonic() - start
        if args.log:
            with args.log.open("a") as fh:
                fh.write(json.dumps({"commit": cand["commit"], "kept": task is not None,
                                     "reason": reason, "seconds": round(took, 1)}) + "\n")
        if task is None:
            print(f"  drop {cand['commit'][:12]}: {reason} ({took:.0f}s)", flush=True)
            continue
        tasks.append(task)
        print(f"  keep {cand['commit'][:12]}: {len(task['FAIL_TO_PASS'])} F2P, "
              f"{len(task['PASS_TO_PASS'])} P2P ({took:.0f}s) [{len(tasks)}]", flush=True)
        with args.out.open("w") as fh:  # rewritten each time: an interrupted build keeps all
            for t in tasks:
                fh.write(json.dumps(t) + "\n")
    print(f"{len(tasks)} tasks -> {args.out}")


if __name__ == "__main__":
    main()
