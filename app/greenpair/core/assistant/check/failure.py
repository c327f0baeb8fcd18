"""What a failing test says: where it failed, its source lines, what it called and which
definitions of the code under test its traceback, stack or panic went through (Python,
JavaScript and TypeScript, Rust, Go). The repair loop (``repair``) shows these to the
model; nothing here drafts or runs anything.
"""

from __future__ import annotations

import builtins
import re
from pathlib import Path

from greenpair.core.assistant.check.discovery import is_test_file
from greenpair.core.assistant.check.result import CheckResult, TestOutcome
from greenpair.core.assistant.check.scratch import ENV_DIRS
from greenpair.core.assistant.check.suspects import rank_suspects

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


def failed_line(outcome: TestOutcome, repo: Path) -> int:
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
    line = failed_line(outcome, repo)
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


def clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…\n" + text[-limit:]


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
