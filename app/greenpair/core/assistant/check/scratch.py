"""A scratch copy of the repository where a draft is applied and tested.

The copy holds the working tree as the user sees it (committed files, uncommitted
changes and untracked files that are not ignored; in a git repository the list comes from
``git ls-files``), plus small ignored files that a build may need (a generated
``_version.py``; never an ignored secret such as ``.env``). The repository's environments (``.venv``, ``venv``, ``node_modules``)
are linked, not copied. Nothing is written to the user's repository, its ``.git``
included: the copy is made with plain reads, in a private temporary folder that is
deleted afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from greenpair.core.assistant.patch.editing import FileChange
from greenpair.core.errors import PatchError
from greenpair.core.repo.filters import is_secret_path

ENV_DIRS = (".venv", "venv", "env", "node_modules")
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".pytest_cache", ".mypy_cache",
                       ".ruff_cache", ".tox", ".nox", "target", "dist", "build", ".cache",
                       ".next", "coverage", ".idea", ".vscode"})
MAX_IGNORED_FILE_BYTES = 256 * 1024
MAX_FILES = 200_000


def _git_files(root: Path) -> tuple[list[str], list[str]] | None:
    """(visible files, small ignored files) from git, or None outside a git work tree."""
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return None
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # never write the index

    def ls(*args: str) -> list[str] | None:
        try:
            done = subprocess.run([git, "-C", str(root), "ls-files", "-z", *args],
                                  capture_output=True, check=False, env=env, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return None
        if done.returncode != 0:
            return None
        return [p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p]

    visible = ls("-c", "-o", "--exclude-standard")
    ignored = ls("-o", "-i", "--exclude-standard", "--directory")
    if visible is None:
        return None
    small = [p for p in ignored or [] if not p.endswith("/")]
    return visible, small


def _walk_files(root: Path) -> list[str]:
    """Every file under ``root`` outside tool and environment folders (no git)."""
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and d not in ENV_DIRS]
        rel = os.path.relpath(dirpath, root)
        for name in filenames:
            out.append(name if rel == "." else os.path.join(rel, name))
            if len(out) > MAX_FILES:
                raise PatchError(f"The repository has over {MAX_FILES:,} files; it is too "
                                 "large to copy for a check.",
                                 hint="Set a test command that runs fast, or check by hand.")
    return out


def _copy_file(src: Path, dest: Path) -> None:
    if src.is_symlink():
        target = os.readlink(src)
        if os.path.isabs(target):
            return  # a link out of the repository is not followed
        dest.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            dest.symlink_to(target)
        return
    if not src.is_file():
        return  # deleted in the working tree, or a socket/fifo
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)


def _inside(root: Path, rel: str) -> bool:
    return ".." not in Path(rel).parts and not os.path.isabs(rel)


def make_copy(repo: Path, dest: Path) -> None:
    """Copy the working tree of ``repo`` into ``dest`` (an empty folder)."""
    listed = _git_files(repo)
    files, ignored = listed if listed is not None else (_walk_files(repo), [])
    for rel in files:
        if not _inside(repo, rel) or any(p in ENV_DIRS for p in Path(rel).parts[:1]):
            continue
        _copy_file(repo / rel, dest / rel)
    for rel in ignored:  # a generated _version.py, never a secret (.env, keys)
        src = repo / rel
        parts = Path(rel).parts
        if not _inside(repo, rel) or any(p in SKIP_DIRS or p in ENV_DIRS for p in parts) \
                or is_secret_path(rel):
            continue
        with contextlib.suppress(OSError):
            if src.is_file() and not src.is_symlink() and \
                    src.stat().st_size <= MAX_IGNORED_FILE_BYTES:
                _copy_file(src, dest / rel)
    for name in ENV_DIRS:
        env = repo / name
        if env.is_dir() and not (dest / name).exists():
            (dest / name).symlink_to(env.resolve(), target_is_directory=True)


def write_changes(root: Path, changes: Sequence[FileChange]) -> None:
    """Write each change's new bytes into the copy at ``root``."""
    for change in changes:
        if not _inside(root, change.path):
            raise PatchError(f"Refusing to write {change.path} outside the scratch copy.")
        dest = root / change.path
        if dest.is_symlink():
            dest.unlink()  # never write through a link
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(change.after)


@contextlib.contextmanager
def scratch_copy(repo: Path, changes: Sequence[FileChange] = ()) -> Iterator[Path]:
    """A private copy of ``repo`` with ``changes`` applied, deleted on exit.

    Raises:
        PatchError: The copy could not be made (the reason says why).
    """
    tmp = Path(tempfile.mkdtemp(prefix="greenpair-check-"))
    root = tmp / repo.name
    try:
        root.mkdir()
        try:
            make_copy(repo, root)
            write_changes(root, changes)
        except OSError as exc:
            raise PatchError(f"Could not copy the repository for the check: {exc}.",
                             hint="Free some space in the temporary folder.") from exc
        yield root
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
