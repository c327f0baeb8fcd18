"""Gitignore rules as git applies them: ``.gitignore`` at every level, ``.git/info/exclude``
and Greenpair's own ``.greenpairignore``.

Precedence follows git: a deeper ignore file overrides a shallower one, the last matching
pattern of a file wins, and ``.git/info/exclude`` comes last. A ``.greenpairignore`` is read
like a ``.gitignore`` of the same directory and overrides it. A path inside an ignored
directory is ignored whatever the negations below say (git never looks inside).
"""

from __future__ import annotations

import os
from pathlib import Path

import pathspec

IGNORE_FILES = (".greenpairignore", ".gitignore")  # highest precedence first


def _read_lines(path: Path) -> list[str] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data.decode("utf-8", errors="replace").splitlines()


def _spec(path: Path) -> pathspec.GitIgnoreSpec | None:
    lines = _read_lines(path)
    if not lines:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _git_dir(top: Path) -> Path | None:
    """The git directory of a work tree (``.git`` may be a file in worktrees/submodules)."""
    dot_git = top / ".git"
    if dot_git.is_dir():
        return dot_git
    lines = _read_lines(dot_git) if dot_git.is_file() else None
    if lines and lines[0].startswith("gitdir:"):
        git_dir = (top / lines[0][len("gitdir:") :].strip()).resolve()
        common = _read_lines(git_dir / "commondir")
        return (git_dir / common[0].strip()).resolve() if common else git_dir
    return None


def _find_top(root: Path) -> Path:
    """The work tree that contains ``root`` (``root`` itself for plain directories)."""
    for candidate in (root, *root.parents):
        if (candidate / ".git").exists():
            return candidate
    return root


class IgnoreRules:
    """The ignore rules of one directory tree.

    Args:
        root: The directory being walked. When it lies inside a git work tree, the ignore
            files of its ancestors up to the work tree's top apply too, as in git.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._top = _find_top(self.root)
        rel = self.root.relative_to(self._top).as_posix()
        self._prefix = "" if rel == "." else rel + "/"
        self._levels: dict[str, list[pathspec.GitIgnoreSpec]] = {}
        self._dir_cache: dict[str, bool] = {}
        git_dir = _git_dir(self._top)
        self._exclude = _spec(git_dir / "info" / "exclude") if git_dir else None

    def _level(self, top_rel_dir: str) -> list[pathspec.GitIgnoreSpec]:
        """Compiled ignore files of a directory (``""`` is the top), loaded once."""
        specs = self._levels.get(top_rel_dir)
        if specs is None:
            base = self._top / top_rel_dir if top_rel_dir else self._top
            specs = [s for name in IGNORE_FILES if (s := _spec(base / name)) is not None]
            self._levels[top_rel_dir] = specs
        return specs

    def _match_top(self, path: str, is_dir: bool) -> bool:
        """Whether ``path`` (relative to the work tree top) is ignored by its own rules,
        without looking at its ancestors."""
        probe = path + "/" if is_dir else path
        parts = path.split("/")
        for depth in range(len(parts) - 1, -1, -1):
            level = "/".join(parts[:depth])
            specs = self._level(level)
            if not specs:
                continue
            sub = probe[len(level) + 1 :] if level else probe
            for spec in specs:
                result = spec.check_file(sub)
                if result.include is not None:
                    return result.include
        if self._exclude is not None:
            result = self._exclude.check_file(probe)
            if result.include is not None:
                return result.include
        return False

    def match(self, rel_path: str, *, is_dir: bool = False) -> bool:
        """Whether ``rel_path`` is ignored by its own rules, assuming its parent directory
        is not ignored (the walker's case: it never enters ignored directories).

        Args:
            rel_path: Path relative to the root, ``/`` separators, no trailing slash.
            is_dir: Whether the path is a directory (``dir/`` patterns match only those).
        """
        return self._match_top(self._prefix + rel_path, is_dir)

    def is_ignored(self, rel_path: str, *, is_dir: bool | None = None) -> bool:
        """Whether ``rel_path`` is ignored, itself or through an ignored ancestor directory.

        Args:
            rel_path: Path relative to the root (``/`` or OS separators).
            is_dir: Whether the path is a directory; looked up on disk when ``None``.

        Returns:
            ``True`` when git (plus ``.greenpairignore``) would ignore the path.
        """
        rel = rel_path.replace(os.sep, "/").strip("/")
        if not rel or rel == ".":
            return False
        parts = rel.split("/")
        if ".git" in parts:
            return True
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            cached = self._dir_cache.get(parent)
            if cached is None:
                cached = self.match(parent, is_dir=True)
                self._dir_cache[parent] = cached
            if cached:
                return True
        if is_dir is None:
            is_dir = (self.root / rel).is_dir()
        return self.match(rel, is_dir=is_dir)
