"""Unified diffs of file changes, and the checks a patch must pass before it is shown.

* ``git apply`` must accept the diff on a scratch copy of the original files and produce
  exactly the new bytes (so the printed diff is the change that ``--apply`` makes);
* tree-sitter must not find more syntax errors in any changed file than before.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from greenpair.core.assistant.patch.editing import FileChange
from greenpair.core.errors import PatchError

NO_NEWLINE = "\\ No newline at end of file\n"


_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


def _split(data: bytes | None, encoding: str = "utf-8") -> list[str]:
    """Lines with their ends; only ``\n`` ends a line (as for git)."""
    if not data:
        return []
    return _LINE.findall(data.decode(encoding))


def file_diff(change: FileChange) -> str:
    """The unified diff (git style, ``a/``/``b/`` prefixes) of one change."""
    old = _split(change.before, change.encoding)
    new = _split(change.after, change.encoding)
    src = "/dev/null" if change.before is None else f"a/{change.path}"
    out: list[str] = []
    if change.before is None:
        out.append(f"diff --git a/{change.path} b/{change.path}\nnew file mode 100644\n")
    for line in difflib.unified_diff(old, new, src, f"b/{change.path}", n=3):
        if line.startswith(("---", "+++")):
            out.append(line.rstrip("\n") + "\n")
        elif line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + NO_NEWLINE)
    return "".join(out)


def build_diff(changes: Sequence[FileChange]) -> str:
    """The unified diff of all changes."""
    return "".join(file_diff(c) for c in changes)


def _git() -> str:
    git = shutil.which("git")
    if git is None:
        raise PatchError(
            "git is needed to check patches but was not found.",
            hint="Install git (e.g. `apt-get install git`) and try again.",
        )
    return git


def check_applies(changes: Sequence[FileChange], diff: str) -> None:
    """Check with ``git apply`` that ``diff`` turns the old files into the new bytes.

    Raises:
        PatchError: git rejects the diff, or its result differs from the intended one.
    """
    git = _git()
    with tempfile.TemporaryDirectory(prefix="greenpair-patch-") as tmp:
        root = Path(tmp)
        for c in changes:
            if c.before is not None:
                dest = root / c.path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(c.before)
        if all(c.encoding == "utf-8" for c in changes):
            (root / ".patch.diff").write_text(diff, encoding="utf-8")
        else:  # each file's hunks in its own encoding, as git compares bytes
            (root / ".patch.diff").write_bytes(
                b"".join(file_diff(c).encode(c.encoding) for c in changes)
            )
        env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(root.parent),
               "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
        for args in (["apply", "--check", ".patch.diff"], ["apply", ".patch.diff"]):
            proc = subprocess.run([git, *args], cwd=root, capture_output=True, text=True,
                                  env=env, check=False)
            if proc.returncode != 0:
                raise PatchError(f"git apply rejects the patch: {proc.stderr.strip()}")
        for c in changes:
            if (root / c.path).read_bytes() != c.after:
                raise PatchError(f"The diff of {c.path} does not reproduce the edit.")


def _python_compiles(text: str) -> bool:
    """Whether CPython's parser accepts ``text`` (it also rejects bad indentation, which
    tree-sitter's Python grammar tolerates). Nothing is executed."""
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences in old code
            ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


_NODE_SUFFIXES = {".js": (".cjs", ".mjs"), ".cjs": (".cjs",), ".mjs": (".mjs",)}
_NODE_ERROR = re.compile(r"^(SyntaxError: .*)$", re.MULTILINE)


def _node_error(node: str, folder: Path, text: str, suffix: str) -> str | None:
    """V8's syntax error for JavaScript ``text`` parsed as a script (``.cjs``) or a
    module (``.mjs``), "" when it parses. Nothing runs: ``node --check`` only parses, and
    ``NODE_OPTIONS`` (which could preload code) is left out."""
    path = folder / f"draft{suffix}"
    path.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    try:
        done = subprocess.run([node, "--check", str(path)], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode == 0:
        return ""
    m = _NODE_ERROR.search(done.stderr)
    return m.group(1) if m else None


def javascript_regression(path: str, old: str | None, new: str) -> str | None:
    """V8's early error in the new text of a JavaScript file that did not have one (a
    ``const`` declared twice: a syntax tree shows nothing wrong), or None. A ``.js``
    file is read as the old text parses (script, else module), a new one as either; a
    file node cannot parse either way (JSX, Flow) and a machine without node are not
    judged."""
    modes = _NODE_SUFFIXES.get(Path(path).suffix)
    node = shutil.which("node") if modes else None
    if node is None or modes is None:
        return None
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="greenpair-js-") as tmp:
        folder = Path(tmp)
        for suffix in modes:
            if old is not None and _node_error(node, folder, old, suffix) != "":
                continue  # the old text is not this kind of file
            error = _node_error(node, folder, new, suffix)
            if not error or old is not None:
                return error or None  # parses, or the old text says which kind it is
            errors.append(error)  # a new file: an error only if no kind parses it
    return errors[-1] if errors else None


def _regressions(changes: Sequence[FileChange], *, node: bool = True) -> list[tuple[str, int]]:
    """Files whose new text has more syntax errors than the old one: their message and
    how many errors more (1 where a compiler, not tree-sitter, says so; ``node``: ask
    V8 too, two processes per JavaScript file)."""
    from greenpair.core.repo.languages import detect_language, parse_errors

    problems = []
    for c in changes:
        new = c.after.decode(c.encoding)
        old = c.before.decode(c.encoding) if c.before is not None else None
        language = detect_language(c.path, new)
        if language is None:
            continue
        if language == "python" and not _python_compiles(new) and (
            old is None or _python_compiles(old)
        ):
            extra = (parse_errors(language, new) or 0) - (
                (parse_errors(language, old) or 0) if old is not None else 0)
            problems.append((f"{c.path} (Python no longer parses it)", max(1, extra)))
            continue
        after = parse_errors(language, new)
        if after == 0 and language == "javascript" and node:
            error = javascript_regression(c.path, old, new)
            if error:
                problems.append((f"{c.path} ({error})", 1))
            continue
        if after is None or after == 0:
            continue
        before = parse_errors(language, old) if old is not None else 0
        if before is None or after > before:
            problems.append((f"{c.path} ({after - (before or 0)} new syntax errors)",
                             after - (before or 0)))
    return problems


def syntax_regressions(changes: Sequence[FileChange]) -> list[str]:
    """Files whose new text has more syntax errors than the old one, with counts (and,
    for JavaScript, V8's early errors)."""
    return [message for message, _count in _regressions(changes)]


def new_syntax_errors(changes: Sequence[FileChange]) -> int:
    """How many syntax errors the changes add, over all files (0: none), by tree-sitter
    and Python's parser: a cheap count to compare edits by (``validate`` also asks V8)."""
    return sum(count for _message, count in _regressions(changes, node=False))


def validate(changes: Sequence[FileChange]) -> str:
    """Build the diff and run every check on it.

    Returns:
        The unified diff.

    Raises:
        PatchError: A check failed (the message says which and why).
    """
    diff = build_diff(changes)
    check_applies(changes, diff)
    broken = syntax_regressions(changes)
    if broken:
        raise PatchError("The edit breaks the syntax of " + ", ".join(broken) + ".")
    return diff
