"""The repair loop: draft, check, and on a failure show the model what failed and draft
again, up to ``CheckOptions.tries`` drafts inside the time budget.

The model sees the failing tests' names, their trimmed output (traceback or compiler
message) and the tests' source lines; it writes the whole edit again against the same
code (the new edit replaces the old one). Every draft and every check is a window in the
energy ledger (kinds ``patch`` and ``check``; the check's meta holds the try, its status
and counts). The draft shown at the end is the best one: a passing one, else the one
that failed least.

A repair draft that repeats an edit already checked (greedy decoding often writes the
failed edit again) is not checked again, and the loop ends there: drafting it once more,
sampled and told that it failed, gave the same edit again in 6 of 7 cases measured
(``benchmarks/patch_bench/README.md``), so the check and the extra draft were both waste.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from greenpair.core.assistant.check.checker import CheckOptions, check_changes
from greenpair.core.assistant.check.discovery import named_test_files, named_tests
from greenpair.core.assistant.check.failure import (
    clip,
    failed_line,
    failing_test_source,
    failure_focus,
    failure_suspects,
)
from greenpair.core.assistant.check.frameworks import command_targets_tests
from greenpair.core.assistant.check.result import (
    CheckResult,
    TestOutcome,
    TryRecord,
    ordinal,
    skipped,
    summarise,
)
from greenpair.core.assistant.patch.drafting import (
    PatchDraft,
    PatchEvent,
    PatchOptions,
    Status,
    draft_patch,
)
from greenpair.core.assistant.retriever import Retriever, check_repo
from greenpair.core.errors import GreenpairError
from greenpair.core.llm.runtime import Message

if TYPE_CHECKING:
    from greenpair.core.energy.meter_protocol import EnergyMeter
    from greenpair.core.llm.runtime import Runtime

MAX_FAILURES_SHOWN = 2
SUSPECTS_SAID = 3  # of which the status line names the first
def repair_message(repo: Path, result: CheckResult, task: str) -> str:
    """The user turn that shows the model why its edit failed the check."""
    parts = [f"Your edit applied, but the check failed: {result.summary}."]
    if not result.outcomes and result.static is None and result.output:
        parts.append(result.output)
    if result.static is not None and result.static.status == "failed":
        parts.append(f"The {result.static.tool} check says:\n```\n"
                     f"{clip(result.static.output)}\n```")
    failures: list[TestOutcome] = [o for o in result.outcomes if not o.passed]
    for outcome in failures[:MAX_FAILURES_SHOWN]:
        parts.append(f"The failing test `{outcome.id}`:")
        source = failing_test_source(repo, outcome.id, failed_line(outcome, repo))
        if source:
            parts.append(f"```\n{source}\n```")
        parts.append(f"Its output:\n```\n{clip(outcome.message or result.output)}\n```")
    if not failures and result.static is not None and result.static.status != "failed":
        parts.append(f"The test command's output:\n```\n{clip(result.output)}\n```")
    parts.append("Fix the code so the test passes (do not change the test). Write the "
                 "complete edit again in the same format, for the original code above: it "
                 "replaces your previous edit.")
    parts.append(f"Task: {task.strip()}")
    return "\n".join(parts)


def named_test_evidence(repo: Path, task: str, *, meter: EnergyMeter,
                        options: CheckOptions, deadline: float,
                        cancel: threading.Event | None = None) -> tuple[str, CheckResult | None]:
    """Run the tests the request names on the unchanged copy (the test-first workflow):
    when they fail, the failure is the evidence the first draft is made with.

    Returns:
        The evidence text ("" when no test is named or it already passes) and the run.
    """
    if (options.test_command and not command_targets_tests(options.test_command)) or \
            not named_tests(task, repo):
        return "", None  # a command that cannot be pointed at the test would run everything
    with meter.window("check", repo=str(repo), attempt=0, before_draft=True) as window:
        try:
            result = check_changes(repo, [], task=task, options=dataclasses.replace(
                options, static=False), deadline=deadline, cancel=cancel, trace=True)
        except (GreenpairError, OSError):
            return "", None  # the drafts' own checks will say what went wrong
        window.meta.update(status=result.status, passed=result.passed, failed=result.failed,
                           command=result.command, traced=len(result.executed))
    result.joules = window.report.joules if window.report is not None else None
    if result.status != "failed":
        return "", result
    parts = ["The test fails now:"]
    for outcome in [o for o in result.outcomes if not o.passed][:MAX_FAILURES_SHOWN]:
        source = failing_test_source(repo, outcome.id, failed_line(outcome, repo))
        parts.append(f"`{outcome.id}`:" + (f"\n```\n{source}\n```" if source else ""))
        parts.append(f"Its output:\n```\n{clip(outcome.message or result.output)}\n```")
    parts.append("Change the code (not the test) so that it passes.")
    return "\n".join(parts), result


def named_test_options(options: PatchOptions, named: list[str]) -> PatchOptions:
    """The drafting options for a request that names tests (``named``: their files),
    checked or not: the named tests must pass as they are, so they are never shown to be
    edited, and other tests step back behind the code under test (``show_tests``)."""
    if not named:
        return options
    return dataclasses.replace(options, exclude_paths=[*options.exclude_paths, *named],
                               show_tests=False)


def named_test_source(root: Path, task: str) -> str:
    """The evidence of a request that names tests when none may run: their source,
    read from the repository (what the test expects), not their failure."""
    parts = []
    for test_id in named_tests(task, root)[:MAX_FAILURES_SHOWN]:
        source = failing_test_source(root, test_id)
        if source:
            parts.append(f"`{test_id}`:\n```\n{source}\n```")
    if not parts:
        return ""
    return "\n".join(["The test (not run: checks are off in this repository):", *parts,
                      "Change the code (not the test) so that it passes."])


def draft_unchecked(
    repo: Path,
    task: str,
    *,
    runtime: Runtime,
    index: Retriever,
    meter: EnergyMeter | None = None,
    options: PatchOptions | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[PatchEvent]:
    """Draft a patch where no check may run (``draft_patch``'s events), with the rules of
    a request that names tests that ``draft_checked`` follows: the named tests are read
    (their source is the evidence) and never shown to be edited. Without this, a request
    "make `tests/test_x.py::test_y` pass" drafted an edit of the test itself (5 of 8
    unchecked drafts on pytest's two-line tasks, ``benchmarks/patch_bench/README.md``)."""
    root = check_repo(repo)
    named = named_test_files(task, root)
    opts = named_test_options(options or PatchOptions(), named)
    if named and not opts.evidence:
        opts = dataclasses.replace(opts, evidence=named_test_source(root, task))
    yield from draft_patch(root, task, runtime=runtime, index=index, cancel=cancel,
                           options=opts, meter=meter)


RESAMPLE_TEMPERATURE = 0.6  # a try after a draft with no usable edit samples
# Drafts that another try cannot mend: the request is out of bounds, or cancelled.
_FINAL_ERRORS = ("refus", "outside the repository", "cancelled", "no code in the repository")


def _worth_another_draft(error: str) -> bool:
    return not any(word in error.lower() for word in _FINAL_ERRORS)


def unusable_message(error: str, task: str) -> str:
    """The user turn after a draft that gave no usable edit (no change, only whitespace,
    broken syntax, cut off)."""
    return (f"That edit cannot be used: {error}\n"
            "Make a real change to the code (not the tests) that does the task, in the same "
            "format, for the original code above.\n"
            f"Task: {task.strip()}")


def total_joules(records: list[TryRecord], before: float | None) -> float | None:
    """The whole request's energy: every draft, every check and the test run before
    drafting (None when nothing was measured)."""
    parts = [x for r in records for x in (r.draft_joules, r.check_joules) if x is not None]
    parts += [before] if before is not None else []
    return sum(parts) if parts else None


def _focus(options: PatchOptions, repo: Path, result: CheckResult,
           texts: dict[str, str] | None = None) -> PatchOptions:
    names = failure_focus(repo, [o for o in result.outcomes if not o.passed], texts)
    return dataclasses.replace(options, focus_names=names) if names else options


def _rank(draft: PatchDraft) -> tuple[int, int, int]:
    """Lower is better: passing first, then fewer failures; a later try breaks ties."""
    check = draft.check
    assert check is not None
    broken = 1 if (check.static is not None and check.static.status == "failed") or \
        (check.status == "failed" and not check.outcomes) else 0
    return (0 if check.ok else 1, broken, check.failed)


def check_draft(repo: Path, draft: PatchDraft, *, meter: EnergyMeter, task: str = "",
                options: CheckOptions | None = None, deadline: float | None = None,
                cancel: threading.Event | None = None, attempt: int = 1) -> CheckResult:
    """Check one draft, measured as a ``check`` window of the ledger (its meta holds the
    try, the status and the counts); ``result.joules`` is the window's energy."""
    with meter.window("check", repo=str(repo), model=draft.model, attempt=attempt) as window:
        try:
            result = check_changes(repo, draft.changes, task=task, options=options,
                                   deadline=deadline, cancel=cancel)
        except (GreenpairError, OSError) as exc:  # a hostile or odd repository
            text = exc.message if isinstance(exc, GreenpairError) else str(exc)
            result = CheckResult("error", output=text)
        window.meta.update(status=result.status, passed=result.passed, failed=result.failed,
                           command=result.command,
                           draft_joules=draft.energy.joules if draft.energy else None)
    result.joules = window.report.joules if window.report is not None else None
    result.tries = attempt
    result.summary = summarise(result)
    return result


def draft_checked(
    repo: Path,
    task: str,
    *,
    runtime: Runtime,
    meter: EnergyMeter,
    index: Retriever,
    options: PatchOptions | None = None,
    check: CheckOptions | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[PatchEvent]:
    """Draft a patch, check it, repair it: ``Status``/``Token`` events, then the
    ``PatchDraft`` to show, with ``draft.check`` saying what ran.

    Args:
        repo: The repository (never written).
        task: The request.
        runtime: The model.
        meter: Measures each draft and each check (kinds ``patch`` and ``check``).
        index: Where the code is found.
        options: How drafts are made.
        check: The budget, tries and test command.
        cancel: Stops the model and a running test.
    """
    root = check_repo(repo)
    copts = check or CheckOptions()
    base = options or PatchOptions()
    followup: list[Message] = []
    records: list[TryRecord] = []
    best: PatchDraft | None = None
    deadline: float | None = None
    stopped = ""
    before_j: float | None = None
    named = named_test_files(task, root)
    base = named_test_options(base, named)
    if copts.run_named_first and named and (
            not copts.test_command or command_targets_tests(copts.test_command)):
        yield Status("Running the test the request names, before drafting…")
        evidence, before = named_test_evidence(
            root, task, meter=meter, options=copts,
            deadline=time.monotonic() + copts.timeout_s, cancel=cancel)
        if evidence and before is not None:
            base = _focus(dataclasses.replace(base, evidence=evidence), root, before)
            suspects = failure_suspects(root, task, evidence, before, named)
            if suspects:
                base = dataclasses.replace(base, suspects=suspects)
                yield Status("The failing test ran through " + ", ".join(
                    f"{s[3]} ({s[0]})" for s in suspects[:SUSPECTS_SAID]) + ".")
        if before is not None:
            before_j = before.joules
            yield Status(f"Before the change: {before.summary}.")
    checked: set[str] = set()  # the diffs already checked (all failed, or the loop ended)
    for attempt in range(1, max(1, copts.tries) + 1):
        started = time.monotonic()
        draft: PatchDraft | None = None
        for event in draft_patch(root, task, runtime=runtime, index=index, cancel=cancel,
                                 options=dataclasses.replace(base, followup=list(followup)),
                                 meter=meter):
            if isinstance(event, PatchDraft):
                draft = event
            else:
                yield event
        assert draft is not None
        draft_j = draft.energy.joules if draft.energy is not None else None
        if not draft.error and draft.changes and draft.diff in checked:
            # Its check would fail as before; a model that wrote it twice is stuck on it.
            records.append(TryRecord(attempt, "repeat", 0, 0, draft_j, None,
                                     time.monotonic() - started))
            yield Status("The model wrote the same edit again; it is not checked twice, and "
                         "the repair stops.")
            break
        if draft.error or not draft.changes:
            records.append(TryRecord(attempt, "no_patch", 0, 0, draft_j, None,
                                     time.monotonic() - started))
            if best is None and attempt < copts.tries and draft.error and \
                    not (cancel is not None and cancel.is_set()) and \
                    _worth_another_draft(draft.error):
                # Greedy decoding would write the same edit again: sample the next one,
                # told why this one could not be used.
                yield Status(f"No usable edit ({draft.error}); drafting again…")
                followup += [Message("assistant", draft.reply),
                             Message("user", unusable_message(draft.error, task))]
                base = dataclasses.replace(base, temperature=max(base.temperature,
                                                                 RESAMPLE_TEMPERATURE))
                continue
            if best is None:
                draft.check = skipped("no valid patch to check", tries=attempt)
                draft.check.attempts = records
                draft.check.total_joules = total_joules(records, before_j)
                yield draft
                return
            break
        if deadline is None:
            deadline = time.monotonic() + copts.timeout_s
        yield Status(f"Checking the change in a scratch copy ({ordinal(attempt)} try)…")
        result = check_draft(root, draft, meter=meter, task=task, options=copts,
                             deadline=deadline, cancel=cancel, attempt=attempt)
        checked.add(draft.diff)
        records.append(TryRecord(attempt, result.status, result.passed, result.failed,
                                 draft_j, result.joules, time.monotonic() - started))
        draft.check = result
        if best is None or _rank(draft) <= _rank(best):
            best = draft
        if result.status != "failed" or attempt >= copts.tries or \
                (cancel is not None and cancel.is_set()):
            break
        needed = (time.monotonic() - started) * 0.8
        if deadline - time.monotonic() < needed:
            yield Status("The check failed and the time budget is too short for another try.")
            stopped = (f"no {ordinal(attempt + 1)} try: about {needed:.0f} s needed, "
                       f"{max(0.0, deadline - time.monotonic()):.0f} s of the budget left "
                       "(check_timeout_s)")
            break
        yield Status(f"The check failed ({result.summary}); drafting again with the failure…")
        followup += [Message("assistant", draft.reply),
                     Message("user", repair_message(root, result, task))]
        if not base.focus_names:  # a focus from the test run before drafting is kept
            base = _focus(base, root, result, {c.path: c.after.decode(c.encoding, "replace")
                                               for c in draft.changes})
    assert best is not None
    assert best.check is not None
    best.check.attempts = records
    best.check.stopped = stopped
    if records[-1].status == "repeat":
        best.check.summary += f" (the {ordinal(len(records))} try wrote the same edit again)"
    elif len(records) > best.check.tries:
        best.check.summary += f" (the {ordinal(len(records))} try did no better; " \
                              f"showing the {ordinal(best.check.tries)})"
    best.check.tries = len(records)  # drafts made (the summary names the one shown)
    best.check.total_joules = total_joules(records, before_j)
    yield best
