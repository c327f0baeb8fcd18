"""The fast static check of the changed files, where the language's tool is here.

* Python: each changed file compiles (``compile``, in this process: nothing runs);
* TypeScript: ``tsc --noEmit`` when the repository has a ``tsconfig.json`` and TypeScript
  installed in its ``node_modules``;
* Go: ``go vet`` of the changed packages (it builds them) when ``go`` is on PATH;
* Rust: ``cargo check --offline`` when ``cargo`` is on PATH;
* JavaScript: ``node --check`` of each changed file when ``node`` is on PATH (V8's early
  errors, such as a ``const`` declared twice, which a syntax tree does not show).

Anything else is skipped with the reason.
"""

from __future__ import annotations

import shutil
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from greenpair.core.assistant.check.result import StaticResult, trim
from greenpair.core.assistant.check.runner import run_command
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
    done = run_command(argv, root, timeout=timeout, cancel=cancel)
    if done.timed_out:
        return StaticResult("timeout", tool, f"{tool} ran past {timeout:.0f} s",
                            trim(done.output, 3000), done.seconds)
    if done.exit_code == 0:
        return StaticResult("passed", tool, seconds=done.seconds)
    return StaticResult("failed", tool, f"{tool} reported errors", trim(done.output, 3000),
                        done.seconds)


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
        return _tool_run("tsc --noEmit", [str(tsc), "--noEmit", "-p", "tsconfig.json"],
                         root, timeout, cancel)
    if lang == "javascript":
        return _javascript(root, changes, timeout, cancel)
    if lang == "go":
        go = shutil.which("go")
        if go is None or not (root / "go.mod").is_file():
            return StaticResult("skipped", "go vet",
                                "go is not installed" if go is None else "no go.mod")
        return _tool_run("go vet", [go, "vet", *_package_dirs(changes, ".go")], root,
                         timeout, cancel)
    cargo = shutil.which("cargo")
    if cargo is None or not (root / "Cargo.toml").is_file():
        return StaticResult("skipped", "cargo check",
                            "cargo is not installed" if cargo is None else "no Cargo.toml")
    return _tool_run("cargo check", [cargo, "check", "--offline", "--quiet"], root, timeout,
                     cancel)
