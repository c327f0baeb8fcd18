"""The audit's session: which commands run, and what each must show to count as done.

A trace with no attempt proves nothing about a step that died at start-up, so each step
has a check of its own end: its exit status and its output. A check returns "" when the
step reached its expected end, else the reason it did not.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from greenpair.core.egress import TracedRun

# The observation window of the long-lived step, from a measurement (2026-12-06, this
# 2-core VM under load ~10; `nice -n 15 python benchmarks/ort_telemetry_delay.py --runs 3
# --cap 150`, then `--runs 2 --cap 120 --reuse-home`): with ORT_DISABLE_TELEMETRY unset,
# onnxruntime 1.32's telemetry client made its first lookup 9.5, 9.8, 9.5 s (fresh HOME)
# and 9.5, 9.5 s (reused HOME) after its process started, then retried. The watch loads the
# embedder at start-up (a new file) and stays up 45 s: over four times the slowest
# measured delay, so a library that phones home as late as ONNX Runtime is seen. The
# short steps exit before any such timer; that is a limit of the audit, said in the README.
TELEMETRY_FIRST_S = 9.8
WATCH_S = 45.0

Check = Callable[[TracedRun, Path], str]


@dataclass(frozen=True)
class SessionStep:
    """One command of the audit's session and how to judge its end."""

    name: str
    args: list[str]
    check: Check
    stop_after_s: float | None = None
    prepare: Callable[[Path], None] | None = None  # run on the scratch copy just before
    # Other command lines to try in turn while the check fails (a small model's patch
    # may not validate for one function and do so for the next).
    alternatives: tuple[list[str], ...] = ()


def _new_file(repo: Path) -> None:
    """A new source file, so that ``watch`` embeds at start-up: the embedder (ONNX
    Runtime) is then loaded for the whole window, as it is while a user edits."""
    (repo / "greenpair_audit_probe.py").write_text(
        "def audit_probe_total(values):\n    \"\"\"Sum the values.\"\"\"\n"
        "    return sum(values)\n", encoding="utf-8")


def _json(run: TracedRun) -> dict[str, object] | None:
    try:
        data = json.loads(run.stdout)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _exit(run: TracedRun) -> str:
    if run.exit_code == 0:
        return ""
    lines = run.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error:")]
    last = (errors or lines or ["no error output"])[-1]
    return f"exit {run.exit_code}: {last[:200]}"


def _indexed(run: TracedRun, _repo: Path) -> str:
    data = _json(run)
    if data is None:
        return "no index statistics printed"
    if not data.get("files") or not data.get("chunks"):
        return f"nothing indexed ({data.get('files')} files, {data.get('chunks')} chunks)"
    return ""


def _found(run: TracedRun, _repo: Path) -> str:
    return "" if run.stdout.strip() else "no search results printed"


def _answered(run: TracedRun, _repo: Path) -> str:
    data = _json(run)
    answer = str((data or {}).get("answer") or "").strip()
    return "" if answer else "no answer produced"


def _dirty(repo: Path) -> bool:
    done = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True,
                          text=True, check=False, timeout=60)
    return bool(done.stdout.strip()) or done.returncode != 0


def _applied(run: TracedRun, repo: Path) -> str:
    data = _json(run)
    if not (data or {}).get("applied"):
        error = (data or {}).get("error") or "no valid patch"
        return f"the patch was not applied ({str(error)[:160]})"
    return "" if _dirty(repo) else "the patch said applied, but no file changed"


def _undone(run: TracedRun, repo: Path) -> str:
    return "the files were not restored" if _dirty(repo) else ""


def _watched(run: TracedRun, _repo: Path) -> str:
    if "Watching" not in run.stderr:
        return "watch did not start"
    return "" if "Stopping." in run.stderr else "watch did not stop on Ctrl+C"


def _all(*checks: Check) -> Check:
    def judge(run: TracedRun, repo: Path) -> str:
        why = _exit(run)
        for check in checks:
            why = why or check(run, repo)
        return why
    return judge


def patch_task(target: tuple[str, str]) -> str:
    """The patch step's task: a small, named change a 135M model gets right (the
    ``function`` format; measured on two repositories, 2026-12-06)."""
    path, function = target
    return f"In {path}, make {function} return None."


def session(scratch: Path, model: str, query: str, patch_targets: list[tuple[str, str]],
            watch_s: float = WATCH_S) -> list[SessionStep]:
    """The audit's commands on ``scratch``, in order.

    Args:
        scratch: The scratch repository.
        model: The model path for ask and patch.
        query: What search and ask look for.
        patch_targets: Files and functions the patch step may edit, tried in turn until a
            patch applies (named, so that a small model can).
        watch_s: How long ``watch`` is observed.
    """
    repo = ["--repo", str(scratch)]
    patches = [["patch", *repo, "--model", model, "--apply", "--json", "--format", "function",
                patch_task(target)] for target in patch_targets]
    return [
        SessionStep("index", ["index", *repo, "--json"], _all(_indexed)),
        SessionStep("search", ["search", *repo, query], _all(_found)),
        SessionStep("ask", ["ask", *repo, "--model", model, "--json", f"Where is {query}?"],
                    _all(_answered)),
        SessionStep("patch --apply", patches[0], _all(_applied),
                    alternatives=tuple(patches[1:])),
        SessionStep("patch --undo", ["patch", *repo, "--undo"], _all(_undone)),
        # ``greenpair mcp`` over stdio, driven by the official MCP client in a parent
        # process (``mcp --probe``): lists the tools, calls search_code, read_span and
        # ask_code; both processes are traced. Exit 0 only when every call answered.
        SessionStep("mcp (stdio)", ["mcp", *repo, "--model", model, "--probe", query], _all()),
        # A library that phones home only after a delay shows in a long-lived process.
        SessionStep(f"watch ({watch_s:.0f} s)", ["watch", *repo], _all(_watched),
                    stop_after_s=watch_s, prepare=_new_file),
    ]
