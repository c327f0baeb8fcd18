"""The walker's ignore rules against the real git on a repository full of tricky patterns."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from greenpair.core.repo.walker import IgnoreRules, SkippedFile, WalkedFile, walk
from tests.conftest import git

ROOT_GITIGNORE = r"""
# comments and blank lines are not patterns

*.log
!keep.log
/build/
docs/_site
temp*
!temporary.txt
**/cache/
a/**/z.txt
\#hash.txt
\!bang.txt
spaced.txt\<SP>
trailing.txt<SP><SP><SP>
dironly/
[abc].data
foo/*.py
!foo/keep.py
logs/
!logs/important.log
*.bak
!/root.bak
deep/**/leaf
nested/**
!nested/again/
!nested/again/**
""".replace("<SP>", " ")  # trailing spaces matter here; editors strip them

SUB_GITIGNORE = """
/local.txt
*.py
!main.py
inner/generated/
"""

INNER_GITIGNORE = """
!*.py
skip_here.txt
"""

INFO_EXCLUDE = """
from_info.txt
sub/*.md
"""

FILES = [
    "README.md", "app.log", "keep.log", "sub/keep.log", "sub/app.log",
    "build/out.txt", "sub/build/out.txt", "build.txt",
    "docs/_site/index.html", "docs/_site.txt", "src/docs/_site/page.txt",
    "temp.txt", "temporary.txt", "src/tempfile.py", "src/temporary.txt",
    "cache/a.txt", "src/cache/b.txt", "src/cache.txt",
    "a/z.txt", "a/b/z.txt", "a/b/c/z.txt", "b/a/z.txt",
    "#hash.txt", "!bang.txt", "bang.txt", "spaced.txt ", "spaced.txt", "trailing.txt",
    "dironly/x.txt", "lib2/dironly/y.txt", "src/dironly",
    "a.data", "d.data", "foo/x.py", "foo/keep.py", "foo/bar/x.py",
    "logs/important.log", "logs/other.txt", "src/logs/x.txt",
    "x.bak", "root.bak", "src/root.bak",
    "deep/leaf", "deep/a/b/leaf", "deep/a/leaf/f.txt", "deep/leafy",
    "nested/x.txt", "nested/again/y.txt", "nested/again/z/w.txt", "nested/other/q.txt",
    "sub/local.txt", "sub/x/local.txt", "local.txt",
    "sub/a.py", "sub/main.py", "sub/x/b.py", "sub/x/main.py",
    "sub/inner/c.py", "sub/inner/skip_here.txt", "sub/skip_here.txt",
    "sub/inner/generated/g.txt", "sub/generated/g.txt",
    "from_info.txt", "src/from_info.txt", "sub/notes.md", "sub/x/notes.md",
]


def _make_repo(root: Path) -> Path:
    for rel in FILES:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {rel}\n", encoding="utf-8")
    (root / ".gitignore").write_text(ROOT_GITIGNORE.lstrip("\n"), encoding="utf-8")
    (root / "sub" / ".gitignore").write_text(SUB_GITIGNORE.lstrip("\n"), encoding="utf-8")
    (root / "sub/inner/.gitignore").write_text(INNER_GITIGNORE.lstrip("\n"), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git/info/exclude").write_text(INFO_EXCLUDE.lstrip("\n"), encoding="utf-8")
    return root


def _git_ignored(root: Path, paths: list[str]) -> set[str]:
    """The paths that ``git check-ignore`` reports as ignored (no global excludes)."""
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(root.parent),
        "XDG_CONFIG_HOME": str(root.parent / "xdg"),
    }
    result = subprocess.run(
        ["git", "check-ignore", "--stdin", "-z"],
        cwd=root,
        input="\0".join(paths) + "\0",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return {p for p in result.stdout.split("\0") if p}


def _git_untracked(root: Path) -> set[str]:
    """Files git would add: the ones not ignored (``ls-files`` honours excluded parents)."""
    out = git(root, "-c", "core.excludesFile=/dev/null", "ls-files", "-z", "--others",
              "--exclude-standard")
    return {p for p in out.split("\0") if p}


@pytest.fixture(scope="module")
def tricky_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_repo(tmp_path_factory.mktemp("gitignore") / "repo")


def test_is_ignored_matches_git_check_ignore(tricky_repo: Path) -> None:
    rules = IgnoreRules(tricky_repo)
    ours = {rel for rel in FILES if rules.is_ignored(rel)}
    theirs = _git_ignored(tricky_repo, FILES)
    assert ours == theirs
    # The patterns really bite: a good share of the files is ignored, and some are not.
    assert 20 < len(ours) < len(FILES) - 20


def test_walk_keeps_exactly_what_git_would_add(tricky_repo: Path) -> None:
    kept = {
        e.path for e in walk(tricky_repo)
        if isinstance(e, WalkedFile) or (isinstance(e, SkippedFile) and e.reason != "ignored")
    }
    assert kept == _git_untracked(tricky_repo)


def test_walk_never_enters_ignored_directories(tricky_repo: Path) -> None:
    ignored = [e.path for e in walk(tricky_repo) if isinstance(e, SkippedFile)
               and e.reason == "ignored"]
    # Ignored directories are reported once, not file by file.
    assert "build/" in ignored
    assert "logs/" in ignored
    assert not any(p.startswith(("build/", "logs/")) and p not in {"build/", "logs/"}
                   for p in ignored)
    assert ".git/" not in ignored  # .git is skipped silently, never walked


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("logs/important.log", True),  # a negation cannot re-include below an ignored dir
        ("sub/inner/c.py", False),  # a deeper .gitignore re-includes
        ("sub/x/b.py", True),  # sub/.gitignore applies to its whole subtree
        ("sub/local.txt", True),  # anchored to the directory of its .gitignore
        ("sub/x/local.txt", False),
        ("src/dironly", False),  # `dironly/` matches directories only
        ("from_info.txt", True),  # .git/info/exclude
        ("spaced.txt ", True),  # escaped trailing space
        ("trailing.txt", True),  # unescaped trailing spaces are dropped
    ],
)
def test_is_ignored_edge_cases(tricky_repo: Path, rel: str, expected: bool) -> None:
    assert IgnoreRules(tricky_repo).is_ignored(rel) is expected


def test_subdirectory_root_inherits_the_parent_rules(tricky_repo: Path) -> None:
    # Walking only sub/ still applies the root .gitignore and .git/info/exclude, as git does.
    rules = IgnoreRules(tricky_repo / "sub")
    assert rules.is_ignored("app.log")  # root: *.log
    assert rules.is_ignored("notes.md")  # info/exclude: sub/*.md
    assert not rules.is_ignored("x/notes.md")
    assert rules.is_ignored("x/b.py")
    assert not rules.is_ignored("main.py")


def test_greenpairignore_at_any_level(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for rel in ["a.py", "notes/draft.md", "src/big_fixture.json", "src/keep.json",
                "src/gen/x.py", "src/app.py"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n", encoding="utf-8")
    (root / ".gitignore").write_text("*.json\n", encoding="utf-8")
    (root / ".greenpairignore").write_text("notes/\n", encoding="utf-8")
    # A .greenpairignore overrides the .gitignore of its directory, negations included.
    (root / "src" / ".greenpairignore").write_text("gen/\n!keep.json\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    walked = {e.path for e in walk(root) if isinstance(e, WalkedFile)}
    assert walked == {".gitignore", ".greenpairignore", "a.py", "src/.greenpairignore",
                      "src/app.py", "src/keep.json"}


def test_plain_directory_without_git(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    (root / "pkg" / "mod.pyc").write_bytes(b"\x00\x01")
    (root / "notes.txt").write_text("hello\n", encoding="utf-8")
    (root / ".gitignore").write_text("*.txt\n", encoding="utf-8")  # honoured without git too
    entries = list(walk(root))
    walked = {e.path: e for e in entries if isinstance(e, WalkedFile)}
    assert set(walked) == {".gitignore", "pkg/mod.py"}
    assert walked["pkg/mod.py"].language == "python"
    assert SkippedFile("notes.txt", "ignored") in entries
    assert SkippedFile("pkg/mod.pyc", "binary", "file extension") in entries


def test_ignore_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".gitignore").write_bytes(b"\xef\xbb\xbf*.log\n")
    (root / "a.log").write_text("x\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    assert _git_ignored(root, ["a.log"]) == {"a.log"}
    assert IgnoreRules(root).is_ignored("a.log")
