"""The fast static check of the changed files, where the language's tool is here.

* Python: each changed file compiles (``compile``, in this process: nothing runs);
* TypeScript: ``tsc --noEmit`` when the repository has a ``tsconfig.json`` and TypeScript
  installed in its ``node_modules``;
* Go: ``go vet`` of the changed packages (it builds them, test files included) when
  ``go`` is on PATH;
* Rust: ``cargo check --offline`` when ``cargo`` is on PATH;
* JavaScript: ``node --check`` of each changed file when ``node`` is on PATH (V8's early
  errors, such as a ``const`` declared twice, which a syntax tree does not show).

Anything else is skipped with the reason. A repository may carry type errors or vet
findings of its own: when ``tsc`` or ``go vet`` fails, it runs again on the files as they
were, and only findings the change added fail the check (a finding is its file and
message; line numbers move with any edit).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from greenpair.core.assistant.check.result import StaticResult, trim
from greenpair.core.assistant.check.runner import RunResult, run_command
from greenpair.core.assistant.patch.editing import FileChange

_LANGUAGES = {".py": "python", ".pyi": "python", ".ts": "typescript", ".tsx": "typescript",
              ".mts": "typescript", ".cts": "typescript", ".go": "go", ".rs": "rust",
              ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript"}


def language_of(changes: Sequence[FileChange]) -> str | None:
    """The language most changed files are in (None: none we can check)."""
    counts: dict[str, int] = {}
    for c in changes:
        lang = _LANGUAGES.get(Path(c.path).suffix.lower())
        if lang:
            counts[lang] = counts.get(lang, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None


def _python(changes: Sequence[FileChange]) -> StaticResult:
    started = time.monotonic()
    errors = []
    for c in changes:
        if not c.path.endswith((".py", ".pyi")):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compile(c.after, c.path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            errors.append(f"{c.path}:{line or '?'}: {type(exc).__name__}: "
                          f"{getattr(exc, 'msg', exc)}")
    seconds = time.monotonic() - started
    if errors:
        return StaticResult("failed", "python compile", "does not compile",
                            "\n".join(errors), seconds)
    return StaticResult("passed", "python compile", seconds=seconds)


def _package_dirs(changes: Sequence[FileChange], suffix: str) -> list[str]:
    dirs = sorted({str(Path(c.path).parent) for c in changes if c.path.endswith(suffix)})
    return ["./" + d if d != "." else "." for d in dirs]


def _tool_run(tool: str, argv: list[str], root: Path, timeout: float,
              cancel: threading.Event | None) -> StaticResult:
    return _judged(tool, run_command(argv, root, timeout=timeout, cancel=cancel), timeout)


def _judged(tool: str, done: RunResult, timeout: float) -> StaticResult:
    if done.timed_out:
        return StaticResult("timeout", tool, f"{tool} ran past {timeout:.0f} s",
                            trim(done.output, 3000), done.seconds)
    if done.exit_code == 0:
        return StaticResult("passed", tool, seconds=done.seconds)
    return StaticResult("failed", tool, f"{tool} reported errors", trim(done.output, 3000),
                        done.seconds)


# A finding: "cart/price.go:6:1: msg" (go vet, "vet: " before a parse error) or
# "src/a.ts(12,5): error TS2322: msg" (tsc); its file and message, not its line.
_FINDING = re.compile(r"^(?:vet: )?(?:\./)?([^\s:()]+\.\w+)(?::\d+(?::\d+)?:|\(\d+,\d+\):) (.+)$",
                      re.MULTILINE)


def _findings(output: str) -> Counter[tuple[str, str]]:
    return Counter((path, message.strip()) for path, message in _FINDING.findall(output))


@contextlib.contextmanager
def _as_before(root: Path, changes: Sequence[FileChange]) -> Iterator[None]:
    """The changed files of the copy at ``root`` as they were before the change, then
    the change again."""
    for c in changes:
        target = root / c.path
        if c.before is None:
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(c.before)
    try:
        yield
    finally:
        for c in changes:
            (root / c.path).parent.mkdir(parents=True, exist_ok=True)
            (root / c.path).write_bytes(c.after)


def _added_findings(tool: str, argv: list[str], root: Path, changes: Sequence[FileChange],
                    timeout: float, cancel: threading.Event | None) -> StaticResult:
    """``tool`` on the changed copy; when it fails, whether the change added a finding
    (the same command on the files as they were tells which findings were there)."""
    started = time.monotonic()
    done = run_command(argv, root, timeout=timeout, cancel=cancel)
    result = _judged(tool, done, timeout)
    after = _findings(done.output)
    if result.status != "failed" or not after:
        return result  # a failure that names no finding is the change's to answer for
    with _as_before(root, changes):
        left = timeout - (time.monotonic() - started)
        before = run_command(argv, root, timeout=max(1.0, left), cancel=cancel)
    result.seconds = time.monotonic() - started
    if before.timed_out or before.cancelled or before.exit_code == 0:
        return result
    added = after - _findings(before.output)  # a second finding like an old one counts
    if added:
        lines = [ln for ln in done.output.splitlines()
                 if any(p in ln and m in ln for p, m in added)]
        result.output = trim("\n".join(lines) or done.output, 3000)
        return result
    return StaticResult("passed", tool, f"{len(after)} finding(s) of the repository's own, "
                        "none added by the change", seconds=result.seconds)


def _javascript(root: Path, changes: Sequence[FileChange], timeout: float,
                cancel: threading.Event | None) -> StaticResult:
    """``node --check`` of each changed JavaScript file (it parses, runs nothing): the
    file's own ``package.json`` ``type`` decides module or script, as when it runs."""
    node = shutil.which("node")
    if node is None:
        return StaticResult("skipped", "node --check", "node is not installed")
    files = [c.path for c in changes if Path(c.path).suffix in {".js", ".mjs", ".cjs"}]
    started = time.monotonic()
    for rel in files:
        left = timeout - (time.monotonic() - started)
        result = _tool_run("node --check", [node, "--check", rel], root, max(1.0, left), cancel)
        if result.status != "passed":
            result.seconds = time.monotonic() - started
            return result
    return StaticResult("passed", "node --check", seconds=time.monotonic() - started)


def static_check(root: Path, changes: Sequence[FileChange], *, timeout: float,
                 cancel: threading.Event | None = None) -> StaticResult:
    """Run the static check of ``changes`` (already written in the copy at ``root``)."""
    lang = language_of(changes)
    if lang is None:
        return StaticResult("skipped", reason="no checker for these files")
    if lang == "python":
        return _python(changes)
    if lang == "typescript":
        if not (root / "tsconfig.json").is_file():
            return StaticResult("skipped", "tsc", "no tsconfig.json")
        tsc = root / "node_modules" / ".bin" / "tsc"
        if not tsc.exists():
            return StaticResult("skipped", "tsc", "TypeScript is not installed in node_modules")
        return _added_findings("tsc --noEmit",
                               [str(tsc), "--noEmit", "-p", "tsconfig.json"], root, changes,
                               timeout, cancel)
    if lang == "javascript":
        return _javascript(root, changes, timeout, cancel)
    if lang == "go":
        go = shutil.which("go")
        if go is None or not (root / "go.mod").is_file():
            return StaticResult("skipped", "go vet",
                                "go is not installed" if go is None else "no go.mod")
        return _added_findings("go vet", [go, "vet", *_package_dirs(changes, ".go")], root,
                               changes, timeout, cancel)
    cargo = shutil.which("cargo")
    if cargo is None or not (root / "Cargo.toml").is_file():
        return StaticResult("skipped", "cargo check",
                            "cargo is not installed" if cargo is None else "no Cargo.toml")
    return _tool_run("cargo check", [cargo, "check", "--offline", "--quiet"], root, timeout,
                     cancel)
