"""Check one draft: apply it in a scratch copy, run the static check and the nearest
tests (or the user's command) inside the time budget, and say exactly what ran."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from greenpair.core.assistant.check.discovery import named_test_files, nearest_tests
from greenpair.core.assistant.check.frameworks import (
    Plan,
    command_plan,
    command_targets_tests,
    plan_for,
)
from greenpair.core.assistant.check.result import CheckResult, summarise, trim
from greenpair.core.assistant.check.runner import check_env, run_command
from greenpair.core.assistant.check.scratch import scratch_copy
from greenpair.core.assistant.check.static import static_check
from greenpair.core.assistant.patch.editing import FileChange

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
MIN_TEST_S = 5.0  # a test run needs at least this much of the budget to start


@dataclass
class CheckOptions:
    """What a check runs and how long it may take.

    Attributes:
        timeout_s: Seconds for the whole check of a request (all tries, drafts included).
        tries: Drafts checked at most (1: no repair).
        test_command: The user's own command (run with ``sh -c`` in the copy; the tests
            found go where it says ``{tests}``, or at the end of a pytest command); ""
            finds the nearest tests and their runner.
        static: Run the static check.
        run_named_first: Run a test the request names before drafting, and give its
            failure to the model with the task (the test-first workflow).
    """

    timeout_s: float = 180.0
    tries: int = 2
    test_command: str = ""
    static: bool = True
    run_named_first: bool = True


def changed_lines(changes: Sequence[FileChange], limit: int = 200) -> str:
    """The lines the changes add or remove (at most ``limit``): which of a file's tests
    are nearest may depend on what changed in it."""
    out: list[str] = []
    for c in changes:
        before = (c.before or b"").decode(c.encoding, "replace").splitlines()
        after = c.after.decode(c.encoding, "replace").splitlines()
        old, new = set(before), set(after)
        out += [ln for ln in after if ln not in old] + [ln for ln in before if ln not in new]
    return "\n".join(out[:limit])


def _failing_output(outcomes: Sequence, output: str) -> str:
    failures = [f"{o.id}\n{o.message.strip()}" for o in outcomes if not o.passed and o.message]
    return trim("\n\n".join(failures) if failures else output)


TRACE_MODULE = "_greenpair_trace"  # trace_plugin.py, as copied into the scratch copy
# A Python that runs pytest as a module has the working directory (the copy) on its path.
_PYTHON_M_PYTEST = re.compile(r"\bpython[\w.]*\s+-m\s+pytest\b")
_CD = re.compile(r"(?:^|[;&|(]\s*)(?:cd|pushd)\s")


def traced_plan(plan: Plan) -> Plan | None:
    """``plan`` with the trace plugin loaded into pytest, or None when the plugin cannot
    be sure to import (not pytest; a command that leaves the copy or runs a ``pytest``
    script, whose path need not hold the copy)."""
    if plan.framework == "pytest" and plan.argv[1:3] == ["-m", "pytest"]:
        return dataclasses.replace(plan, argv=[*plan.argv[:3], "-p", TRACE_MODULE,
                                               *plan.argv[3:]])
    if plan.framework == "command" and plan.argv[:2] == ["sh", "-c"]:
        command = plan.argv[2]
        m = _PYTHON_M_PYTEST.search(command)
        if m is None or _CD.search(command):
            return None
        command = f"{command[:m.end()]} -p {TRACE_MODULE}{command[m.end():]}"
        return dataclasses.replace(plan, argv=["sh", "-c", command])
    return None


def read_trace(path: Path) -> list[tuple[str, int, str]] | None:
    """The functions the failing tests executed, from the plugin's JSON (None: no trace)."""
    try:
        tests = json.loads(path.read_text(encoding="utf-8"))["tests"]
        out: dict[tuple[str, int, str], None] = {}
        for test in tests.values():
            if test.get("failed"):
                for rel, line, name in test["functions"]:
                    out[(str(rel), int(line), str(name))] = None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return list(out)


def _run_traced(root: Path, plan: Plan, timeout: float, cancel: threading.Event | None,
                result: CheckResult) -> None:
    """Run ``plan`` with the trace plugin when it can be loaded, and keep what the failing
    tests executed in ``result.executed``; a plugin that fails to load costs one plain
    rerun, never the check."""
    traced = traced_plan(plan)
    if traced is None:
        _run_tests(root, plan, timeout, cancel, result)
        return
    from importlib.resources import files

    out = root.parent / "trace.json"
    (root / f"{TRACE_MODULE}.py").write_text(
        files("greenpair.core.assistant.check").joinpath("trace_plugin.py").read_text(
            encoding="utf-8"), encoding="utf-8")
    env = {**check_env(root), "GREENPAIR_TRACE_OUT": str(out),
           "GREENPAIR_TRACE_ROOT": str(root)}
    started = time.monotonic()
    output = _run_tests(root, traced, timeout, cancel, result, env=env)
    executed = read_trace(out)
    if executed is None and TRACE_MODULE in output and result.status in {"error", "failed"} \
            and not result.outcomes:
        result.seconds = 0.0
        _run_tests(root, plan, timeout - (time.monotonic() - started), cancel, result)
        return
    result.executed = executed or []


def _run_tests(root: Path, plan: Plan, timeout: float,
               cancel: threading.Event | None, result: CheckResult,
               env: dict[str, str] | None = None) -> str:
    """Run ``plan`` and read its outcomes into ``result``; returns the raw output."""
    done = run_command(plan.argv, root, timeout=timeout, cancel=cancel, env=env)
    done.output = _ANSI.sub("", done.output)  # a runner that colours even without a tty
    result.namespace = done.namespace
    result.seconds += done.seconds
    report = ""
    if plan.report is not None and plan.report.is_file():
        report = plan.report.read_text(encoding="utf-8", errors="replace")
    outcomes = plan.parse(done.output, report)
    for outcome in outcomes:  # jest's code frames are coloured inside its JSON report
        outcome.message = _ANSI.sub("", outcome.message)
    result.outcomes = outcomes
    result.tests_run = [o.id for o in outcomes]
    result.passed = sum(o.passed for o in outcomes)
    result.failed = len(outcomes) - result.passed
    if done.timed_out:
        result.status = "timeout"
        result.output = trim(done.output) + f"\n[killed after {timeout:.0f} s]"
    elif done.cancelled:
        result.status, result.output = "error", "Cancelled."
    elif result.failed or (done.exit_code != 0 and done.exit_code not in plan.no_tests_codes):
        result.status = "failed" if outcomes or plan.framework == "command" else "error"
        result.output = _failing_output(outcomes, done.output)
    elif not outcomes and (done.exit_code in plan.no_tests_codes or plan.framework != "command"):
        result.status, result.output = "no_tests", trim(done.output, 2000)
    else:
        result.status, result.output = "passed", trim(done.output, 2000)
    return done.output


def check_changes(repo: Path, changes: Sequence[FileChange], *, task: str = "",
                  options: CheckOptions | None = None, deadline: float | None = None,
                  cancel: threading.Event | None = None, trace: bool = False) -> CheckResult:
    """Check ``changes`` of ``repo`` in a scratch copy (the repository is never written).

    Args:
        repo: The user's repository.
        changes: The draft's file changes.
        task: The request (a test it names is the one run).
        options: Budget and command.
        deadline: ``time.monotonic()`` by which the check must end (default: now +
            ``options.timeout_s``).
        cancel: Stops a running test command.
        trace: Record which functions of the copy the failing tests executed
            (``result.executed``; pytest only, see ``trace_plugin``).
    """
    opts = options or CheckOptions()
    end = deadline if deadline is not None else time.monotonic() + opts.timeout_s
    result = CheckResult("error", tries=1)
    touched = sorted(set(named_test_files(task, repo)) & {c.path for c in changes})
    if touched:  # the named test must pass as it is: an edit of it is not a fix
        result.status = "failed"
        result.output = (f"The edit changes {', '.join(touched)}, the test the request "
                         "names; it must pass unchanged. Change the code under test instead.")
        result.summary = f"not run: the edit changes the named test {', '.join(touched)}"
        return result
    with scratch_copy(repo, changes) as root:
        if opts.static:
            left = end - time.monotonic()
            result.static = static_check(root, changes, timeout=max(1.0, left), cancel=cancel)
            result.seconds += result.static.seconds
            if result.static.status in {"failed", "timeout"}:
                result.status = "failed" if result.static.status == "failed" else "timeout"
                result.output = result.static.output
                result.summary = summarise(result)
                return result
        targeted = not opts.test_command or command_targets_tests(opts.test_command)
        found = nearest_tests(root, [c.path for c in changes], task=task,
                              hint=changed_lines(changes)) if targeted \
            else None  # a command that takes no tests needs no scan for them
        if opts.test_command:
            plan: Plan | str = command_plan(opts.test_command, found)
        else:
            assert found is not None
            if found.empty:
                result.status = "no_tests"
                result.summary = summarise(result)
                return result
            plan = plan_for(found, root, root.parent / "report.json")
        if isinstance(plan, str):
            result.status, result.not_run = "no_tests", plan
            result.output = f"Tests were found but not run: {plan}."
            result.summary = summarise(result)
            return result
        result.command = plan.display
        left = end - time.monotonic()
        if left < MIN_TEST_S:
            result.status = "timeout"
            result.output = "The time budget ran out before the tests could start."
        elif trace:
            _run_traced(root, plan, left, cancel, result)
        else:
            _run_tests(root, plan, left, cancel, result)
    result.summary = summarise(result)
    return result

