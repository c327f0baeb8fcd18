"""Git's global excludes file (``core.excludesFile``) against the real git.

Every test runs with ``HOME`` and ``XDG_CONFIG_HOME`` in a temporary folder, so neither
Greenpair nor git ever reads (or writes) the developer's own configuration.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from greenpair.core.repo.gitconfig import excludes_file, parse_config
from greenpair.core.repo.walker import IgnoreRules, SkippedFile, WalkedFile, walk
from tests.conftest import git

FILES = [
    "app.py", "notes.tmp", "keep.tmp", "src/x.tmp", "src/deep/y.tmp", "info.tmp",
    "scratch/a.py", "src/scratch/b.py", "README.md", "docs/guide.md", ".DS_Store",
    "src/.DS_Store", "local.cfg",
]
GLOBAL_IGNORE = "*.tmp\nscratch/\n.DS_Store\n*.md\n"


@pytest.fixture(autouse=True)
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME without any git configuration (no system file either)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    monkeypatch.delenv("GIT_CONFIG_SYSTEM", raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return home


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for rel in FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"{rel}\n", encoding="utf-8")
    (root / ".gitignore").write_text("!keep.tmp\n", encoding="utf-8")  # overrides global
    (root / "docs" / ".gitignore").write_text("!guide.md\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    (root / ".git/info/exclude").write_text("!info.tmp\nlocal.cfg\n", encoding="utf-8")
    return root


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _git_ignored(root: Path) -> set[str]:
    """What ``git check-ignore`` says, with this test's HOME and XDG_CONFIG_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_CONFIG_")}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    result = subprocess.run(
        ["git", "check-ignore", "--stdin", "-z"], cwd=root, input="\0".join(FILES) + "\0",
        capture_output=True, text=True, env=env, check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return {p for p in result.stdout.split("\0") if p}


def _ours(root: Path) -> set[str]:
    rules = IgnoreRules(root)
    return {rel for rel in FILES if rules.is_ignored(rel)}


def _same_as_git(root: Path) -> set[str]:
    ours = _ours(root)
    assert ours == _git_ignored(root)
    return ours


def test_default_file_under_home_config(repo: Path, user_home: Path) -> None:
    _write(user_home / ".config/git/ignore", GLOBAL_IGNORE)
    ignored = _same_as_git(repo)
    # Lowest precedence: .gitignore (keep.tmp, docs/guide.md) and info/exclude (info.tmp)
    # re-include what the global file ignores.
    assert {"notes.tmp", "src/deep/y.tmp", "scratch/a.py", "src/scratch/b.py",
            "src/.DS_Store", "README.md", "local.cfg"} <= ignored
    assert not {"keep.tmp", "info.tmp", "docs/guide.md", "app.py"} & ignored


def test_default_file_under_xdg_config_home(
    repo: Path, user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(user_home / ".config/git/ignore", "*.py\n")  # not read: XDG_CONFIG_HOME wins
    xdg = tmp_path / "xdg"
    _write(xdg / "git/ignore", GLOBAL_IGNORE)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    ignored = _same_as_git(repo)
    assert "notes.tmp" in ignored
    assert "app.py" not in ignored


def test_excludes_file_from_gitconfig_replaces_the_default(repo: Path, user_home: Path) -> None:
    _write(user_home / ".config/git/ignore", "*.py\n")  # the default: not read when set
    _write(user_home / "global ignore", GLOBAL_IGNORE)
    _write(user_home / ".gitconfig",
           '[user]\n\tname = T\n[core]\n\texcludesFile = "~/global ignore" ; quoted\n')
    ignored = _same_as_git(repo)
    assert "notes.tmp" in ignored
    assert "app.py" not in ignored


def test_gitconfig_overrides_xdg_config_and_the_repository_overrides_both(
    repo: Path, user_home: Path
) -> None:
    _write(user_home / ".config/git/config", "[core]\n\texcludesfile = ~/a.ignore\n")
    _write(user_home / ".gitconfig", "[Core]\n\tExcludesFile = ~/b.ignore\n")
    _write(user_home / "a.ignore", "*.py\n")
    _write(user_home / "b.ignore", "*.tmp\n")
    _write(user_home / "c.ignore", "*.md\n")
    assert _same_as_git(repo) >= {"notes.tmp"}
    assert "app.py" not in _ours(repo)
    git(repo, "config", "core.excludesFile", str(user_home / "c.ignore"))
    ignored = _same_as_git(repo)
    assert "README.md" in ignored
    assert "notes.tmp" not in ignored


def test_included_config_and_an_empty_setting(repo: Path, user_home: Path) -> None:
    _write(user_home / "extra.config", "[core]\n\texcludesFile = ~/inc.ignore\n")
    _write(user_home / "inc.ignore", GLOBAL_IGNORE)
    _write(user_home / ".gitconfig", "[include]\n\tpath = extra.config\n")
    assert "notes.tmp" in _same_as_git(repo)
    _write(user_home / ".config/git/ignore", GLOBAL_IGNORE)
    _write(user_home / ".gitconfig", "[core]\n\texcludesFile =\n")  # empty: no global file
    assert "notes.tmp" not in _same_as_git(repo)


def test_walk_leaves_out_globally_ignored_files(repo: Path, user_home: Path) -> None:
    _write(user_home / ".config/git/ignore", GLOBAL_IGNORE)
    entries = list(walk(repo))
    walked = {e.path for e in entries if isinstance(e, WalkedFile)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_CONFIG_")}
    out = subprocess.run(
        ["git", "ls-files", "-z", "--others", "--exclude-standard"], cwd=repo,
        capture_output=True, text=True, env={**env, "GIT_CONFIG_NOSYSTEM": "1"}, check=True,
    ).stdout
    assert walked == {p for p in out.split("\0") if p}
    assert SkippedFile("scratch/", "ignored") in entries


def test_a_plain_directory_keeps_ignoring_only_its_own_files(
    tmp_path: Path, user_home: Path
) -> None:
    _write(user_home / ".config/git/ignore", GLOBAL_IGNORE)
    plain = tmp_path / "plain"
    _write(plain / "notes.tmp", "x\n")
    _write(plain / "a.log", "x\n")
    _write(plain / ".gitignore", "*.log\n")
    rules = IgnoreRules(plain)
    assert not rules.is_ignored("notes.tmp")  # git applies global excludes in work trees only
    assert rules.is_ignored("a.log")


def test_missing_home_and_unset_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOME")
    git_dir = tmp_path / ".git"
    git_dir.mkdir()
    assert excludes_file(git_dir, tmp_path) is None
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert excludes_file(git_dir, tmp_path) == tmp_path / "xdg/git/ignore"


CONFIG_TEXT = (
    "# comment\n[core]\n\tbare\n\texcludesFile = a  b # trailing comment\n"
    '[Core "Sub"] Key = " padded "\\\n  more\n'
    '[core]\r\n\tpath = "x\\ty\\"z\\\\" ; c\r\n'
    "[a.B]\n\tx = 1\n"
)


def test_parse_config_reads_what_git_reads(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_bytes(CONFIG_TEXT.encode())
    listed = git(tmp_path, "config", "-f", str(config), "--list", "-z")
    theirs = [tuple(item.split("\n", 1)) if "\n" in item else (item, None)
              for item in listed.split("\0") if item]
    assert parse_config(CONFIG_TEXT) == theirs
    assert ("core.Sub.key", " padded   more") in theirs
    # git refuses a broken file; the parser stops there and keeps what came before.
    assert parse_config("[core]\n\tbare\n[broken\nexcludesFile = never\n") == [
        ("core.bare", None)
    ]
