"""Property test: our ignore rules decide every path as ``git check-ignore`` does.

Random ignore files (a top-level one and sometimes one in a subfolder) built from the
pieces that make gitignore hard (stars, ``**``, classes, negation, escapes, a lone ``!``,
trailing backslashes and spaces) are written next to random real files; git's verdict on
every file and folder is the reference. Invalid lines must be skipped as git skips them,
never raise.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenpair.core.repo.ignore import IgnoreRules
from greenpair.core.repo.walker import SkippedFile, walk

PIECES = [
    "a", "b", "x", ".", "-", " ", "#", "*", "**", "***", "?", "/", "!", "\\", "\\!", "\\#",
    "\\[", "[ab]", "[!a]", "[a-c]", "[--0]", "[]a]", "**/", "/**",
]
SEGMENTS = ["a", "b", "ab", "x.a", "a b", "!a", "#b", "[a]", "a-b"]

pattern_lines = st.lists(st.sampled_from(PIECES), min_size=1, max_size=5).map("".join)
ignore_files = st.lists(pattern_lines, min_size=1, max_size=4)
file_paths = st.lists(
    st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3).map("/".join),
    min_size=1, max_size=8, unique=True,
)


def _make_files(root: Path, paths: list[str]) -> None:
    for rel in paths:
        target = root / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.write_text("x\n")
        except (FileExistsError, NotADirectoryError):
            pass  # "a" is a file and "a/b" wants it as a folder: keep the first


def _git_ignored(root: Path, paths: list[str]) -> set[str]:
    out = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin", "-z"], cwd=root, check=False,
        input="\0".join(paths) + "\0", capture_output=True, text=True,
    )
    assert out.returncode in (0, 1), out.stderr
    return {p for p in out.stdout.split("\0") if p}


@given(top=ignore_files, nested=st.one_of(st.none(), ignore_files), paths=file_paths)
def test_ignore_rules_agree_with_git_check_ignore(
    top: list[str], nested: list[str] | None, paths: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        _make_files(root, paths)
        (root / ".gitignore").write_text("\n".join(top) + "\n")
        folders = sorted(p for p in root.rglob("*") if p.is_dir() and ".git" not in p.parts)
        if nested is not None and folders:
            (folders[0] / ".gitignore").write_text("\n".join(nested) + "\n")
        every = sorted(
            p.relative_to(root).as_posix() for p in root.rglob("*")
            if ".git" not in p.relative_to(root).parts and p.name != ".gitignore"
        )
        rules = IgnoreRules(root)
        ours = {p for p in every if rules.is_ignored(p)}
        assert ours == _git_ignored(root, every), (top, nested)
        # The walk leaves out the same files (never entering ignored folders) and never
        # raises on the same input; other filters (a ``.a`` archive) may skip more.
        pruned = {
            e.path.rstrip("/") for e in walk(root)
            if isinstance(e, SkippedFile) and e.reason == "ignored"
        }
        walk_ignored = {
            p for p in every if (root / p).is_file()
            and any("/".join(p.split("/")[:i]) in pruned for i in range(1, p.count("/") + 2))
        }
        assert walk_ignored == {p for p in ours if (root / p).is_file()}


@pytest.mark.parametrize("line", ["!", "\\", "foo\\", "!\\"])
def test_invalid_lines_are_skipped_not_raised(tmp_path: Path, line: str) -> None:
    (tmp_path / ".gitignore").write_text(f"*.log\n{line}\n!keep.log\n")
    rules = IgnoreRules(tmp_path)
    assert rules.match("x.log")
    assert not rules.match("keep.log")
    bad = rules.take_bad_patterns()
    assert [(b.file, b.line, b.text) for b in bad] == [(".gitignore", 2, line)]
