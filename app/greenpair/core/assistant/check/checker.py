"""Check one draft: apply it in a scratch copy, run the static check and the nearest
tests (or the user's command) inside the time budget, and say exactly what ran."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from greenpair.core.assistant.check.discovery import named_tests, nearest_tests
from greenpair.core.assistant.check.frameworks import (
    Plan,
    command_plan,
    command_targets_tests,
    plan_for,
)
from greenpair.core.assistant.check.result import CheckResult, summarise, trim
from greenpair.core.assistant.check.runner import run_command
from greenpair.core.assistant.check.scratch import scratch_copy
from greenpair.core.assistant.check.static import static_check
from greenpair.core.assistant.patch.editing import FileChange

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


def _failing_output(outcomes: Sequence, output: str) -> str:
    failures = [f"{o.id}\n{o.message.strip()}" for o in outcomes if not o.passed and o.message]
    return trim("\n\n".join(failures) if failures else output)


def _run_tests(root: Path, plan: Plan, timeout: float,
               cancel: threading.Event | None, result: CheckResult) -> None:
    done = run_command(plan.argv, root, timeout=timeout, cancel=cancel)
    result.namespace = done.namespace
    result.seconds += done.seconds
    report = ""
    if plan.report is not None and plan.report.is_file():
        report = plan.report.read_text(encoding="utf-8", errors="replace")
    outcomes = plan.parse(done.output, report)
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


def check_changes(repo: Path, changes: Sequence[FileChange], *, task: str = "",
                  options: CheckOptions | None = None, deadline: float | None = None,
                  cancel: threading.Event | None = None) -> CheckResult:
    """Check ``changes`` of ``repo`` in a scratch copy (the repository is never written).

    Args:
        repo: The user's repository.
        changes: The draft's file changes.
        task: The request (a test it names is the one run).
        options: Budget and command.
        deadline: ``time.monotonic()`` by which the check must end (default: now +
            ``options.timeout_s``).
        cancel: Stops a running test command.
    """
    opts = options or CheckOptions()
    end = deadline if deadline is not None else time.monotonic() + opts.timeout_s
    result = CheckResult("error", tries=1)
    named = {t.split("::")[0] for t in named_tests(task, repo)} if task else set()
    touched = sorted(named & {c.path for c in changes})
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
        found = nearest_tests(root, [c.path for c in changes], task=task) if targeted \
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
            result.status = "no_tests"
            result.output = f"Tests were found but not run: {plan}."
            result.summary = summarise(result) + f" (tests not run: {plan})"
            return result
        result.command = plan.display
        left = end - time.monotonic()
        if left < MIN_TEST_S:
            result.status = "timeout"
            result.output = "The time budget ran out before the tests could start."
        else:
            _run_tests(root, plan, left, cancel, result)
    result.summary = summarise(result)
    return result

