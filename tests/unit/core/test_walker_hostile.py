"""The walker on what real repositories hold: nested repositories, submodules, linked
worktrees, and files that vanish, grow or turn into FIFOs while they are read. Real git
commands and real files; nothing may raise or hang."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from greenpair.core.repo import walker
from greenpair.core.repo.walker import SkippedFile, WalkedFile, walk, walk_paths
from tests.conftest import git, make_repo


def _walked(root: Path) -> dict[str, str]:
    """path -> "walked" or the skip reason (and detail)."""
    out = {}
    for e in walk(root):
        out[e.path] = "walked" if isinstance(e, WalkedFile) else f"{e.reason}:{e.detail}"
    return out


@pytest.fixture
def outer(tmp_path: Path) -> Path:
    lib = make_repo(tmp_path / "lib", {"lib.py": "def lib_fn():\n    return 1\n"})
    repo = make_repo(tmp_path / "outer", {"main.py": "def main():\n    return 0\n",
                                          ".gitignore": "*.log\n"})
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "sub")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-qm", "sub")
    make_repo(repo / "nested", {"n.py": "def nested_fn():\n    return 2\n",
                                ".gitignore": "skip_me.py\n"})
    (repo / "nested" / "skip_me.py").write_text("x = 1\n")
    git(repo, "worktree", "add", "-q", "wt")
    (repo / ".git" / "info" / "exclude").write_text("local_only.py\n")
    (repo / "local_only.py").write_text("y = 1\n")
    return repo


def test_nested_repository_submodule_and_worktree(outer: Path) -> None:
    seen = _walked(outer)
    assert seen["main.py"] == "walked"
    assert seen["sub/lib.py"] == "walked"  # a submodule is code of the project
    assert seen["nested/n.py"] == "walked"  # a nested repository, with its own rules
    assert seen["nested/skip_me.py"].startswith("ignored")
    assert seen["local_only.py"].startswith("ignored")
    # A linked worktree inside the repository is a second copy of it: left out once.
    assert seen["wt/"] == "duplicate:a git worktree of this repository"
    assert not any(p.startswith("wt/") and p != "wt/" for p in seen)
    assert not any(".git" in p.split("/") for p in seen)
    assert list(walk_paths(outer, ["wt/main.py"])) == []  # the watcher's path too


def test_walk_from_a_linked_worktree_reads_the_shared_excludes(outer: Path) -> None:
    (outer / "wt" / "local_only.py").write_text("y = 1\n")
    seen = _walked(outer / "wt")
    assert seen["main.py"] == "walked"
    assert seen["local_only.py"].startswith("ignored")  # .git/info/exclude of the main one


def _sabotage(monkeypatch: pytest.MonkeyPatch, name: str, act: object) -> None:
    """Run ``act(path)`` on the real file ``name`` just before the walker opens it."""
    real = walker._open_bytes

    def opener(path: Path, limit: int = -1) -> bytes:
        if Path(path).name == name:
            act(Path(path))  # type: ignore[operator]
        return real(path, limit)

    monkeypatch.setattr(walker, "_open_bytes", opener)


def test_a_file_that_vanishes_while_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_repo(tmp_path / "r", {"a.py": "a = 1\n", "gone.py": "b = 2\n"}, init_git=False)
    _sabotage(monkeypatch, "gone.py", os.remove)
    seen = _walked(tmp_path / "r")
    assert seen == {"a.py": "walked", "gone.py": "unreadable:it vanished while being read"}


def test_a_file_swapped_for_a_fifo_does_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repo(tmp_path / "r", {"a.py": "a = 1\n", "pipe.py": "b = 2\n"}, init_git=False)

    def to_fifo(path: Path) -> None:
        path.unlink()
        os.mkfifo(path)

    _sabotage(monkeypatch, "pipe.py", to_fifo)
    seen = _walked(tmp_path / "r")
    assert seen["pipe.py"] == "unreadable:not a regular file"
    assert seen["a.py"] == "walked"


def test_a_file_that_grows_while_read_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repo(tmp_path / "r", {"log.py": "x = 1\n"}, init_git=False)
    read: list[int] = []
    real = walker._open_bytes

    def grow_then_read(path: Path, limit: int = -1) -> bytes:
        with open(path, "ab") as fh:
            fh.write(b"# more\n" * 400_000)  # 2.8 MB appended after the size check
        data = real(path, limit)
        read.append(len(data))
        return data

    monkeypatch.setattr(walker, "_open_bytes", grow_then_read)
    [entry] = list(walk(tmp_path / "r", max_bytes=1 << 20))
    assert isinstance(entry, SkippedFile)
    assert entry.reason == "too_large"
    assert read == [(1 << 20) + 1]  # never more than the limit (+1 to tell it is over)
