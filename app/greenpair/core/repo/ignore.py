"""Gitignore rules as git applies them: ``.gitignore`` at every level, ``.git/info/exclude``,
the user's global excludes file (``core.excludesFile``) and Greenpair's own
``.greenpairignore``.

Precedence follows git: a deeper ignore file overrides a shallower one, the last matching
pattern of a file wins, then ``.git/info/exclude`` and last the global excludes file (read
only inside a git work tree, as git does). A ``.greenpairignore`` is read like a
``.gitignore`` of the same directory and overrides it. A path inside an ignored directory
is ignored whatever the negations below say (git never looks inside).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pathspec

from greenpair.core.repo.gitconfig import excludes_file

IGNORE_FILES = (".greenpairignore", ".gitignore")  # highest precedence first


def _read_lines(path: Path) -> list[str] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data.decode("utf-8-sig", errors="replace").splitlines()  # git skips a BOM too


# pathspec marks the "/" after a directory match with this regex group; a pattern whose
# regex has it can match a path itself (file or, with a trailing slash, directory).
_DIR_MARK = "ps_d"
_DIR_ONLY = f"(?P<{_DIR_MARK}>/)"
_FILE_OR_DIR = f"(?:{_DIR_ONLY}|$)"
_STARS = re.compile(r"(?<!\\)\*{3,}")
_ESCAPED_SLASH = re.compile(r"(?<!\\)((?:\\\\)*)\\/")


def _as_git_reads(line: str) -> str:
    """Rewrite the spellings pathspec reads differently from git into git's meaning.

    git's wildmatch treats a run of three or more stars like ``**`` (pathspec: like
    ``*``), ``a/**/`` as the folders below ``a`` (pathspec: ``a`` itself) and ``a\\/b``
    like ``a/b``. All were found by the property test against ``git check-ignore``.
    """
    body = line.rstrip()
    if body.startswith(("\\/", "!\\/")) or (body.endswith("\\/") and _ESCAPED_SLASH.search(body)):
        return ""  # a path never starts with "/", and "a\\/" leaves a dangling "\\": no-op
    line = _ESCAPED_SLASH.sub(r"\1/", line)
    line = _STARS.sub("**", line)
    stripped = line.rstrip()
    if stripped.endswith("/**/") and not stripped.endswith("\\/**/"):
        line = stripped[:-1] + "/*/"
    return line


def _no_slash_in_classes(regex: str) -> str:
    """Make every bracket expression of a pathspec regex refuse ``/``.

    git matches ignore patterns with ``WM_PATHNAME``: ``[!a]`` or ``[--0]`` never match a
    slash. pathspec turns ``[!a]`` into ``[^a]``, which does, so ``[!a]*[!a]`` would wrongly
    ignore the folder ``!a`` (found by the property test against ``git check-ignore``).
    """
    out: list[str] = []
    i, n = 0, len(regex)
    while i < n:
        char = regex[i]
        if char == "\\":
            out.append(regex[i : i + 2])
            i += 2
            continue
        if char != "[":
            out.append(char)
            i += 1
            continue
        j = i + 1
        if j < n and regex[j] == "^":
            out.append("[^/")
            j += 1
        else:
            out.append("(?!/)[")
        if j < n and regex[j] == "]":  # a leading ``]`` is a member, not the end
            out.append("]")
            j += 1
        while j < n and regex[j] != "]":
            step = 2 if regex[j] == "\\" else 1
            out.append("\\[" if regex[j] == "[" else regex[j : j + step])  # no nested set
            j += step
        i = j
    return "".join(out)


class _Rule:
    """One compiled pattern, matched against a path *itself* (as git does per level).

    ``pathspec`` answers "is this file excluded, counting its parents"; the walker needs
    "does this pattern match this file or this directory", so it can prune directories
    and still respect negations below them.
    """

    __slots__ = ("exact", "exact_dir", "ignore", "inside")

    def __init__(self, regex: re.Pattern[str], ignore: bool) -> None:
        self.ignore = ignore
        pattern = regex.pattern
        if "[" in pattern:
            pattern = _no_slash_in_classes(pattern)
        self.exact: re.Pattern[str] | None = None
        self.exact_dir: re.Pattern[str] | None = None
        self.inside: re.Pattern[str] | None = None
        if _DIR_MARK in regex.groupindex:
            self.exact = re.compile(f"(?:{pattern})\\Z")
            # A directory matches only through the mark (the "/" after it): ``a/***``
            # must not match the folder ``a`` by letting its stars match nothing.
            self.exact_dir = re.compile(f"(?:{pattern.replace(_FILE_OR_DIR, _DIR_ONLY)})\\Z")
        else:  # ``dir/**`` or ``*``: anything strictly inside a prefix
            self.inside = re.compile(pattern)

    def matches(self, path: str, is_dir: bool) -> bool:
        if self.exact is not None:
            if is_dir:
                assert self.exact_dir is not None
                return self.exact_dir.search(path + "/") is not None
            return self.exact.search(path) is not None
        assert self.inside is not None
        return self.inside.search(path) is not None


@dataclass(frozen=True)
class BadPattern:
    """A line of an ignore file that git skips as invalid (a lone ``!``, a trailing ``\\``).

    Attributes:
        file: The ignore file, relative to the walked root when inside it.
        line: 1-based line number.
        text: The line as written.
    """

    file: str
    line: int
    text: str


def _compile(lines: list[str]) -> tuple[list[_Rule], list[tuple[int, str]]]:
    """Compile ignore lines one by one; returns the rules (last first) and the lines
    that are not valid patterns (skipped, as git does, instead of failing the file)."""
    rules: list[_Rule] = []
    bad: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        try:
            patterns = pathspec.GitIgnoreSpec.from_lines([_as_git_reads(line)]).patterns
        except ValueError:  # GitIgnorePatternError / GitWildMatchPatternError
            bad.append((number, line))
            continue
        rules.extend(
            _Rule(pattern.regex, bool(pattern.include))
            for pattern in patterns
            if pattern.include is not None and isinstance(pattern.regex, re.Pattern)
        )
    return rules[::-1], bad


def _decide(rules: list[_Rule], path: str, is_dir: bool) -> bool | None:
    for rule in rules:
        if rule.matches(path, is_dir):
            return rule.ignore
    return None


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


def linked_worktree_of(folder: Path, git_dir: Path | None) -> bool:
    """Whether ``folder`` is a linked worktree (``git worktree add``) of the repository
    whose git directory is ``git_dir``: a second checkout of the same code."""
    if git_dir is None or not (folder / ".git").is_file():
        return False
    own = _git_dir(folder)  # a linked worktree's resolves to the shared (common) one
    return own is not None and own.resolve() == git_dir.resolve()


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
        self._levels: dict[str, list[list[_Rule]]] = {}
        self._dir_cache: dict[str, bool] = {}
        git_dir = self.git_dir = _git_dir(self._top)
        self._excludes: list[list[_Rule]] = []  # info/exclude, then the global file
        self._bad: list[BadPattern] = []
        if git_dir is not None:
            for path in (git_dir / "info" / "exclude", excludes_file(git_dir, self._top)):
                rules = self._load(path) if path is not None else None
                if rules is not None:
                    self._excludes.append(rules)

    def _load(self, path: Path) -> list[_Rule] | None:
        """The rules of one ignore file, last first; invalid lines are noted and skipped."""
        lines = _read_lines(path)
        if not lines:
            return None
        rules, bad = _compile(lines)
        if bad:
            try:
                name = path.relative_to(self.root).as_posix()
            except ValueError:
                name = str(path)
            self._bad.extend(BadPattern(name, number, text) for number, text in bad)
        return rules or None

    def take_bad_patterns(self) -> list[BadPattern]:
        """Invalid ignore lines met since the last call (each file is read once)."""
        bad, self._bad = self._bad, []
        return bad

    def _level(self, top_rel_dir: str) -> list[list[_Rule]]:
        """Compiled ignore files of a directory (``""`` is the top), loaded once."""
        specs = self._levels.get(top_rel_dir)
        if specs is None:
            base = self._top / top_rel_dir if top_rel_dir else self._top
            specs = [r for name in IGNORE_FILES if (r := self._load(base / name)) is not None]
            self._levels[top_rel_dir] = specs
        return specs

    def _match_top(self, path: str, is_dir: bool) -> bool:
        """Whether ``path`` (relative to the work tree top) is ignored by its own rules,
        without looking at its ancestors."""
        parts = path.split("/")
        for depth in range(len(parts) - 1, -1, -1):
            level = "/".join(parts[:depth])
            sub = path[len(level) + 1 :] if level else path
            for rules in self._level(level):
                decision = _decide(rules, sub, is_dir)
                if decision is not None:
                    return decision
        for rules in self._excludes:
            decision = _decide(rules, path, is_dir)
            if decision is not None:
                return decision
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
