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

import builtins
import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from greenpair.core.assistant.check.checker import CheckOptions, check_changes
from greenpair.core.assistant.check.discovery import (
    is_test_file,
    named_test_files,
    named_tests,
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
from greenpair.core.assistant.check.scratch import ENV_DIRS
from greenpair.core.assistant.check.suspects import rank_suspects
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
MAX_MESSAGE_CHARS = 1500
MAX_SOURCE_LINES = 30


_FRAME = re.compile(r"^([\w./-]+\.py):(\d+): in (\w+)", re.MULTILINE)
_INSTALLED = frozenset({*ENV_DIRS, "site-packages", "dist-packages"})


def _relative(path: str, repo: Path) -> str | None:
    """A traceback's path as a path of the repository, or None when it is not one.

    Tracebacks may name files by absolute paths, and those of a check run name the
    scratch copy: the shortest tail of the path that is a file of ``repo`` is taken."""
    if ".." in Path(path).parts:
        return None
    if not path.startswith("/"):
        return path
    parts = Path(path).parts[1:]
    for i in range(len(parts) - 1, -1, -1):
        tail = "/".join(parts[i:])
        if (repo / tail).is_file():
            return tail
    return None


# A JavaScript stack line: "at Command._exit (/tmp/x/tree/lib/command.js:1234:11)",
# "at file:///tmp/x/tree/lib/help.js:5:3" (innermost first, unlike Python's traceback)
_JS_FRAME = re.compile(
    r"^\s*at (?:.*?\()?(?:file://)?([^\s()]+?\.(?:[cm]?[jt]sx?)):(\d+):\d+\)?\s*$", re.MULTILINE)


# Rust: "thread 'full_discount_is_free' (13167) panicked at src/price.rs:2:5:"
_RUST_PANIC = re.compile(r"panicked at ([\w./-]+\.rs):(\d+):\d+")


# Go: a panic's goroutine stack, innermost first, by absolute path:
# "\t/tmp/x/tree/cart/price.go:5 +0x1d"
_GO_FRAME = re.compile(r"^\t(/\S+?\.go):(\d+)(?: \+0x[0-9a-f]+)?\s*$", re.MULTILINE)
# Go: where a test reported its failure, by the file's name: "    price_test.go:7: want 180"
_GO_REPORT = re.compile(r"^\s+([\w.-]+_test\.go):(\d+): ", re.MULTILINE)


def _frames(message: str, repo: Path) -> list[tuple[str, int]]:
    """The repository files and lines a traceback (Python), a stack (JavaScript, a Go
    panic) or a panic (Rust) went through, outermost first; installed packages
    (``node_modules``, a venv, Go's own library) are not the repository's code."""
    found = [(path, line) for path, line, _func in _FRAME.findall(message)]
    found += list(reversed(_JS_FRAME.findall(message)))
    found += _RUST_PANIC.findall(message)
    found += list(reversed(_GO_FRAME.findall(message)))
    out = []
    for path, line in found:
        rel = _relative(path, repo)
        if rel is not None and not set(Path(rel).parts) & _INSTALLED:
            out.append((rel, int(line)))
    return out


def _failed_line(outcome: TestOutcome, repo: Path) -> int:
    """The line of the test's own file where its traceback left it (0: unknown); a Go
    test's report names its file without the folder."""
    path = outcome.id.split("::")[0]
    lines = [line for p, line in _frames(outcome.message, repo) if p == path]
    if path.endswith(".go"):
        lines += [int(line) for name, line in _GO_REPORT.findall(outcome.message)
                  if name == Path(path).name]
    return lines[-1] if lines else 0


_JS_TEST_CALL = re.compile(r"^\s*(?:test|it|specify)(?:\.\w+)*\s*\(\s*(['\"`])(.+?)\1")


def _js_test_line(lines: list[str], title: str) -> int:
    """The line (0-based) of the JavaScript test whose title ``title`` ends with, or -1.

    Jest and vitest name a test by its ``describe`` titles and its own, joined by spaces
    (``cart total sums prices``); Node's runner by its own title. The longest match wins."""
    best, found = -1, 0
    for i, line in enumerate(lines):
        m = _JS_TEST_CALL.match(line)
        if m and (title == m.group(2) or title.endswith(" " + m.group(2))) \
                and len(m.group(2)) > found:
            best, found = i, len(m.group(2))
    return best


def _rust_unit_file(repo: Path, test_id: str) -> str:
    """The source file of a Rust unit test named by its module path
    (``price::tests::ten_percent_off``: ``src/price.rs``, or ``src/price/mod.rs``; an
    inline ``mod tests`` is in its parent's file), in the root crate or a workspace
    member one or two folders down; "" when none is found."""
    modules = test_id.split("::")[:-1]
    members = sorted(p.parent.relative_to(repo)
                     for pattern in ("*/Cargo.toml", "*/*/Cargo.toml") for p in repo.glob(pattern))
    crates = [Path("."), *members[:50]]
    for i in range(len(modules), -1, -1):  # the deepest module first, in any crate
        mod = Path(*modules[:i]) if i else None
        for crate in crates:
            names = [f"{mod}.rs", f"{mod}/mod.rs"] if mod else ["lib.rs", "main.rs"]
            for name in names:
                rel = crate / "src" / name
                if (repo / rel).is_file():
                    return rel.as_posix()
    return ""


def failing_test_source(repo: Path, test_id: str, failed_line: int = 0) -> str:
    """The source lines of the test ``test_id`` (a pytest or unittest id, or a JavaScript
    runner's ``file > suite > title``), or "".

    A test longer than ``MAX_SOURCE_LINES`` is shown by its first line and the lines
    before ``failed_line`` (1-based, from its traceback) when that is known.
    """
    js_title = ""  # a JavaScript test's title (vitest, jest, node --test ids)
    if "::" in test_id:
        path, _, rest = test_id.partition("::")
        name = re.sub(r"\[.*$", "", rest.split("::")[-1])
        if path.endswith(".go"):
            name = name.split("/")[0]  # a subtest (TestDiscount/zero) is in its test
        if not re.search(r"[/.]", path):  # cargo's name of a unit test: a module path
            path = _rust_unit_file(repo, test_id)
    elif " > " in test_id:
        path, name = test_id.split(" > ", 1)[0], ""
        js_title = test_id.rsplit(" > ", 1)[-1]
    elif re.fullmatch(r"[\w.]+", test_id) and "." in test_id:
        module, _, name = test_id.rpartition(".")
        parts = module.split(".")
        candidates = [Path(*parts[:i]).with_suffix(".py") for i in range(len(parts), 0, -1)]
        path = next((str(c) for c in candidates if (repo / c).is_file()), "")
    else:
        return ""
    file = repo / path
    if not path or ".." in Path(path).parts or not file.is_file():
        return ""
    lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    start = head = 0
    if js_title:  # test('title', ...), it.only("title", ...): else the file's head
        head = _js_test_line(lines, js_title)
        start, head, name = (head, head, js_title) if head >= 0 else (0, 0, "")
    elif name:
        pattern = re.compile(rf"^(\s*)(?:async\s+)?(?:def|func|fn)\s+{re.escape(name)}\b")
        head = next((i for i, ln in enumerate(lines) if pattern.match(ln)), -1)
        if head < 0:
            return ""
        start = head
        while start > 0 and lines[start - 1].lstrip().startswith("@"):
            start -= 1
    body = lines[start:head + 1]
    indent = len(lines[head]) - len(lines[head].lstrip())
    first = head + 1
    if failed_line - 1 >= start + MAX_SOURCE_LINES and name:
        first = max(head + 1, failed_line - MAX_SOURCE_LINES + 3)
        body.append(" " * (indent + 4) + ("// …" if js_title else "# …"))
    for line in lines[first:max(first, failed_line + 1, start + MAX_SOURCE_LINES)]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent and name \
                and not line.lstrip().startswith((")", "]", "}")):
            break
        body.append(line)
    return "\n".join(body).rstrip()


MAX_SUSPECTS = 10  # definitions a traced failing test ran through, fused with retrieval
SUSPECTS_SAID = 3  # of which the status line names the first
_TOP_DEF = re.compile(r"^(?:async\s+def|def|class)\s+(\w+)")
MAX_FOCUS = 3


def failure_focus(repo: Path, outcomes: list[TestOutcome],
                  texts: dict[str, str] | None = None) -> list[str]:
    """The top-level definitions of the code under test that failing tracebacks went
    through (deepest first), read from ``texts`` (a draft's new files) or the repository."""
    names: list[str] = []
    called: list[str] = []
    for outcome in outcomes:
        own = outcome.id.split("::")[0]  # the test's file, whatever its name
        calls = _failing_calls(outcome.message, outcome.id.rsplit("::", 1)[-1])
        if own.endswith((".go", ".rs")):
            calls += _reported_calls(repo, outcome, own)
        for call in calls:
            if call not in called:
                called.append(call)
        for path, line in reversed(_frames(outcome.message, repo)):
            if is_test_file(path) or path == own or not path.endswith(".py"):
                continue  # (JavaScript frames: their definitions are the suspects)
            text = (texts or {}).get(path)
            if text is None:
                file = repo / path
                if not file.is_file():
                    continue
                text = file.read_text(encoding="utf-8", errors="replace")
            lines = text.splitlines()[:int(line)]
            found = next((m.group(1) for ln in reversed(lines) if (m := _TOP_DEF.match(ln))),
                         None)
            if found and found not in names:
                names.append(found)
    names += [n for n in called if n not in names]
    return names[:MAX_FOCUS]


_ERROR_LINE = re.compile(r"^E\s+(.*)$", re.MULTILINE)
_FRAME_SOURCE = re.compile(r"^\S+\.py:\d+: in \w+\n\s+(.*)$", re.MULTILINE)  # its line
_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_NOT_CODE = frozenset(dir(builtins)) | {"assert", "where", "and", "or", "not", "in", "is",
                                        "lambda", "raises", "approx", "PosixPath",
                                        "WindowsPath", "Path"}


def _failing_calls(message: str, test_name: str) -> list[str]:
    """What the failing line calls, and what pytest's ``where`` lines say was called:
    ``assert not samefile_nofollow(p1, p2)`` gives ``samefile_nofollow`` (the code under
    test, even when the traceback never left the test)."""
    lines = _ERROR_LINE.findall(message) + _FRAME_SOURCE.findall(message)
    out: list[str] = []
    for line in lines:
        for name in _CALLED.findall(line):
            if name not in _NOT_CODE and name != test_name and not name.startswith("test_") \
                    and len(name) > 2 and name not in out:
                out.append(name)
    return out


# A call in a Go or Rust test's line: ``Discount(200, 10)``, ``cart.Total(p)``; not the
# test's own helpers (``t.Fatalf``, ``assert.Equal``) nor the language's builtins.
_TEST_CALL = re.compile(r"(?<![\w.])(?:(\w+)\.)?([A-Za-z_]\w*)\s*\(")
_TEST_HELPERS = frozenset({"t", "tb", "b", "f", "tt", "assert", "require", "fmt", "errors",
                           "strings", "reflect", "testing", "cmp", "bytes", "os", "time"})
_NOT_CALLED = frozenset({"if", "for", "switch", "func", "return", "go", "defer", "len", "cap",
                         "make", "new", "append", "panic", "copy", "delete", "string", "int",
                         "int64", "uint", "byte", "rune", "float64", "error", "any", "Some",
                         "Ok", "Err", "vec", "format", "println", "match", "while"})
REPORTED_LINES = 3  # the line a Go/Rust test failed at and the lines just above it


def _reported_calls(repo: Path, outcome: TestOutcome, path: str) -> list[str]:
    """What a Go or Rust test calls on the lines where it reported its failure
    (``if got := Discount(200, 10); got != 180 {`` above ``t.Fatalf``): the code under
    test when no stack went through it."""
    line = _failed_line(outcome, repo)
    file = repo / path
    if not line or ".." in Path(path).parts or not file.is_file():
        return []
    lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
    out: list[str] = []
    for text in lines[max(0, line - REPORTED_LINES):line]:
        for qualifier, name in _TEST_CALL.findall(text.split("//")[0]):
            if qualifier not in _TEST_HELPERS and name not in _NOT_CALLED \
                    and not name.startswith(("Test", "test_")) and len(name) > 2 \
                    and name not in out:
                out.append(name)
    return out


def _clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…\n" + text[-limit:]


def repair_message(repo: Path, result: CheckResult, task: str) -> str:
    """The user turn that shows the model why its edit failed the check."""
    parts = [f"Your edit applied, but the check failed: {result.summary}."]
    if not result.outcomes and result.static is None and result.output:
        parts.append(result.output)
    if result.static is not None and result.static.status == "failed":
        parts.append(f"The {result.static.tool} check says:\n```\n"
                     f"{_clip(result.static.output)}\n```")
    failures: list[TestOutcome] = [o for o in result.outcomes if not o.passed]
    for outcome in failures[:MAX_FAILURES_SHOWN]:
        parts.append(f"The failing test `{outcome.id}`:")
        source = failing_test_source(repo, outcome.id, _failed_line(outcome, repo))
        if source:
            parts.append(f"```\n{source}\n```")
        parts.append(f"Its output:\n```\n{_clip(outcome.message or result.output)}\n```")
    if not failures and result.static is not None and result.static.status != "failed":
        parts.append(f"The test command's output:\n```\n{_clip(result.output)}\n```")
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
        source = failing_test_source(repo, outcome.id, _failed_line(outcome, repo))
        parts.append(f"`{outcome.id}`:" + (f"\n```\n{source}\n```" if source else ""))
        parts.append(f"Its output:\n```\n{_clip(outcome.message or result.output)}\n```")
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


def failure_suspects(repo: Path, task: str, evidence: str, result: CheckResult,
                     skip: list[str]) -> list[tuple[str, int, int, str]]:
    """The definitions the traced failing tests ran through, best first (see
    ``suspects.rank_suspects``): the traceback's frames in the code under test, then by
    how well they match the request and the failure."""
    frames = [(path, line) for o in result.outcomes if not o.passed
              for path, line in reversed(_frames(o.message, repo)) if not is_test_file(path)]
    # Untraced (not pytest): what the failure's traceback or stack went through.
    executed = result.executed or [(path, line, "") for path, line in frames]
    found = rank_suspects(repo, executed, f"{task}\n{evidence}", first=frames,
                          skip=skip, limit=MAX_SUSPECTS)
    return [(s.path, s.start_line, s.end_line, s.name) for s in found]


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
