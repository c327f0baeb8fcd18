"""Walk a repository (or any directory) and yield the text files worth indexing.

Every entry is either a :class:`WalkedFile` (decoded text and its hash) or a
:class:`SkippedFile` with a reason, so callers can report what was left out and why.
Secret files are refused on their path alone: they are never opened. Ignored and vendored
directories are reported once and never entered. The order is deterministic: entries of
each directory sorted by name, depth first.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from greenpair.core.errors import RepositoryError
from greenpair.core.repo.filters import (
    VENDOR_MARKERS,
    has_generated_header,
    is_binary_name,
    is_generated_name,
    is_latin1_text,
    is_minified,
    is_secret_dir,
    is_secret_path,
    is_vendored_dir,
    looks_binary,
)
from greenpair.core.repo.ignore import IGNORE_FILES, IgnoreRules, linked_worktree_of
from greenpair.core.repo.languages import detect_language

__all__ = [
    "REASONS",
    "IgnoreRules",
    "SkippedFile",
    "WalkedFile",
    "is_secret_path",
    "read_text",
    "refresh_scope",
    "walk",
    "walk_paths",
    "walk_summary",
]

REASONS = (
    "secret", "binary", "too_large", "generated", "minified", "vendored", "symlink_loop",
    "symlink_outside", "unreadable", "undecodable", "ignored", "duplicate", "bad_ignore_line",
)
DEFAULT_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class WalkedFile:
    """A text file to index."""

    path: str  # repository-relative, POSIX separators
    abs_path: Path
    size: int
    mtime_ns: int
    language: str | None
    text: str
    sha256: str  # of the raw bytes on disk


@dataclass(frozen=True)
class SkippedFile:
    """A file (or a whole directory, path ending in ``/``) left out, with the reason.

    ``reason`` is one of :data:`REASONS`; ``duplicate`` marks a link to a file or folder
    that the walk reaches at its own path.
    """

    path: str
    reason: str
    detail: str = ""


Entry = WalkedFile | SkippedFile


def _open_bytes(path: Path, limit: int = -1) -> bytes:
    """Read a file, at most ``limit`` bytes (the one place the walker opens contents).

    Opened without blocking and checked on the open descriptor, so a file swapped for a
    FIFO or a device after the walk looked at it is refused instead of hanging the walk,
    and a file that grows while it is read never costs more than ``limit`` bytes.

    Raises:
        OSError: It vanished, is unreadable, or is no longer a regular file.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return handle.read(limit)


def read_text(data: bytes) -> tuple[str | None, str]:
    """Decode file bytes as text.

    UTF-8 (with or without a BOM), UTF-16/32 with a BOM and plain ISO-8859-1 (see
    :func:`~greenpair.core.repo.filters.is_latin1_text`) are accepted; anything else is
    refused rather than guessed, so the index never holds mojibake.

    Args:
        data: Raw file content.

    Returns:
        ``(text, "")`` on success, or ``(None, reason)`` with reason ``binary`` or
        ``undecodable``.
    """
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec), ""
            except UnicodeDecodeError:
                return None, "undecodable"
    if looks_binary(data):
        return None, "binary"
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        pass
    if is_latin1_text(data):
        return data.decode("latin-1"), ""
    return None, "undecodable"


class _PathEntry:
    """The part of ``os.DirEntry`` the walker uses, for a path it did not list."""

    __slots__ = ("name", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = os.path.basename(path)

    def is_symlink(self) -> bool:
        return stat.S_ISLNK(os.lstat(self.path).st_mode)

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        try:
            info = os.stat(self.path) if follow_symlinks else os.lstat(self.path)
        except FileNotFoundError:
            return False
        return stat.S_ISDIR(info.st_mode)

    def stat(self) -> os.stat_result:
        return os.stat(self.path)


_DirEntry = os.DirEntry[str] | _PathEntry


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


class _Walker:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.max_bytes = max_bytes
        self.rules = IgnoreRules(root)

    def run(self) -> Iterator[Entry]:
        yield from self._dir(str(self.root), "", (self.real_root,))

    def _dir(self, abs_dir: str, rel_dir: str, ancestors: tuple[str, ...]) -> Iterator[Entry]:
        try:
            with os.scandir(abs_dir) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            yield SkippedFile(rel_dir or "./", "unreadable", exc.strerror or str(exc))
            return
        names = frozenset(e.name for e in entries)
        if rel_dir and is_vendored_dir(rel_dir, names):
            yield SkippedFile(rel_dir, "vendored", "marker file")  # a virtualenv, a cache
            return
        if rel_dir and ".git" in names and linked_worktree_of(Path(abs_dir), self.rules.git_dir):
            yield SkippedFile(rel_dir, "duplicate", "a git worktree of this repository")
            return
        for entry in entries:
            if entry.name == ".git":
                continue
            yield from self._entry(entry, rel_dir + entry.name, ancestors)

    def _entry(self, entry: _DirEntry, rel: str, ancestors: tuple[str, ...]) -> Iterator[Entry]:
        """One entry of a listed directory (a file, or a folder walked in full)."""
        try:
            is_link = entry.is_symlink()
            plain_dir = entry.is_dir(follow_symlinks=False)
        except OSError as exc:
            yield SkippedFile(rel, "unreadable", exc.strerror or str(exc))
            return
        ignored = self.rules.match(rel, is_dir=plain_dir)
        yield from self._bad_lines()
        if ignored:
            yield SkippedFile(rel + "/" if plain_dir else rel, "ignored")
            return
        if is_link:
            problem = self._check_link(entry.path, rel, ancestors)
            if problem is not None:
                yield problem
                return
        try:
            is_dir = entry.is_dir()
        except OSError as exc:
            yield SkippedFile(rel, "unreadable", exc.strerror or str(exc))
            return
        if not is_dir:
            yield self._file(Path(entry.path), rel, entry)
        elif is_secret_dir(rel):  # decided by name: never listed
            yield SkippedFile(rel + "/", "secret")
        elif is_vendored_dir(rel):
            yield SkippedFile(rel + "/", "vendored")
        else:
            real = os.path.realpath(entry.path)
            yield from self._dir(entry.path, rel + "/", (*ancestors, real))

    def only(self, rel: str) -> Iterator[Entry]:
        """What :meth:`run` yields for ``rel`` and below it, without walking the rest.

        Each folder above ``rel`` is checked as the full walk would on its way down
        (ignored, private, vendored, links); when the walk would not reach ``rel``, or it
        does not exist, nothing is yielded.
        """
        parts = rel.split("/")
        if ".git" in parts:
            return
        abs_dir = str(self.root)
        ancestors: tuple[str, ...] = (self.real_root,)
        for depth in range(1, len(parts)):
            dir_rel = "/".join(parts[:depth])
            abs_dir = os.path.join(abs_dir, parts[depth - 1])
            is_link = os.path.islink(abs_dir)  # the walk matches links as files
            if not os.path.isdir(abs_dir) or self.rules.match(dir_rel, is_dir=not is_link):
                return
            if is_link and self._check_link(abs_dir, dir_rel, ancestors) is not None:
                return
            if is_secret_dir(dir_rel) or is_vendored_dir(dir_rel):
                return
            try:
                names = frozenset(os.listdir(abs_dir))
            except OSError:
                return
            if is_vendored_dir(dir_rel, names):
                return
            if ".git" in names and linked_worktree_of(Path(abs_dir), self.rules.git_dir):
                return
            ancestors = (*ancestors, os.path.realpath(abs_dir))
        yield from self._bad_lines()
        path = os.path.join(abs_dir, parts[-1])
        if os.path.lexists(path):
            yield from self._entry(_PathEntry(path), rel, ancestors)

    def _bad_lines(self) -> Iterator[SkippedFile]:
        """Ignore-file lines that are not valid patterns: skipped as git skips them."""
        for bad in self.rules.take_bad_patterns():
            yield SkippedFile(
                f"{bad.file}:{bad.line}", "bad_ignore_line",
                f"{bad.text!r} is not a valid pattern; git skips this line too",
            )

    def _check_link(self, path: str, rel: str, ancestors: tuple[str, ...]) -> SkippedFile | None:
        """Refuse links that loop, leave the root, dangle, or point at a secret."""
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return SkippedFile(rel, "symlink_loop", "the link resolves to itself")
            return SkippedFile(rel, "unreadable", f"broken symlink ({exc.strerror})")
        target = os.path.realpath(path)
        if any(_inside(ancestor, target) for ancestor in ancestors):
            return SkippedFile(rel, "symlink_loop", "points at one of its parent directories")
        if not _inside(target, self.real_root):
            return SkippedFile(rel, "symlink_outside", "points outside the repository")
        target_rel = os.path.relpath(target, self.real_root).replace(os.sep, "/")
        if is_secret_path(target_rel):
            return SkippedFile(rel, "secret", f"links to {target_rel}")
        if not self._hidden(target_rel, os.path.isdir(target)):
            # Git keeps links as links; the target is walked at its own path already.
            return SkippedFile(rel, "duplicate", f"links to {target_rel}")
        return None

    def _hidden(self, rel: str, is_dir: bool) -> bool:
        """Whether the walk leaves ``rel`` out (ignored, or inside a vendored folder)."""
        parts = rel.split("/")
        folders = len(parts) if is_dir else len(parts) - 1
        if any(is_vendored_dir("/".join(parts[: i + 1])) for i in range(folders)):
            return True
        return self.rules.is_ignored(rel, is_dir=is_dir)

    def _file(self, path: Path, rel: str, entry: _DirEntry) -> Entry:
        if is_secret_path(rel):
            return SkippedFile(rel, "secret")
        if is_generated_name(rel):
            return SkippedFile(rel, "generated", "file name")
        if is_binary_name(rel):
            return SkippedFile(rel, "binary", "file extension")
        try:
            info = entry.stat()
        except OSError as exc:
            return SkippedFile(rel, "unreadable", exc.strerror or str(exc))
        if not stat.S_ISREG(info.st_mode):
            return SkippedFile(rel, "unreadable", "not a regular file")
        if info.st_size > self.max_bytes:
            return SkippedFile(rel, "too_large", f"{info.st_size} bytes")
        try:
            data = _open_bytes(path, self.max_bytes + 1)
        except FileNotFoundError:
            return SkippedFile(rel, "unreadable", "it vanished while being read")
        except OSError as exc:
            return SkippedFile(rel, "unreadable", exc.strerror or str(exc))
        if len(data) > self.max_bytes:
            return SkippedFile(rel, "too_large", f"{len(data)} bytes")
        text, reason = read_text(data)
        if text is None:
            return SkippedFile(rel, reason)
        language = detect_language(rel, text)
        if is_minified(text, language):
            return SkippedFile(rel, "minified")
        if has_generated_header(text):
            return SkippedFile(rel, "generated", "header comment")
        return WalkedFile(
            path=rel,
            abs_path=path,
            size=len(data),
            mtime_ns=info.st_mtime_ns,
            language=language,
            text=text,
            sha256=hashlib.sha256(data).hexdigest(),
        )


def walk(root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Entry]:
    """Walk ``root`` and yield every file as walked or skipped.

    Args:
        root: A git work tree or a plain directory.
        max_bytes: Files larger than this are skipped as ``too_large``.

    Yields:
        :class:`WalkedFile` for text files to index, :class:`SkippedFile` (reason in
        :data:`REASONS`) for the rest; ignored and vendored directories are yielded once,
        as ``dir/``.

    Raises:
        RepositoryError: ``root`` is missing or not a directory.
    """
    root = _check_root(root)
    yield from _Walker(root.absolute(), max_bytes).run()


def _check_root(root: Path) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise RepositoryError(
            f"{root} is not a directory.",
            hint="Pass the folder of a repository, e.g. --repo ~/code/myproject.",
        )
    return root


def refresh_scope(paths: Iterable[str]) -> list[str] | None:
    """The folders and files to walk again after ``paths`` changed.

    Nested paths collapse into their outermost one. A changed ignore file
    (``.gitignore``, ``.greenpairignore``) or vendor marker (``pyvenv.cfg``…) widens the
    scope to its whole folder, since it decides what the walk keeps there.

    Args:
        paths: Changed paths relative to the root (files or folders, existing or not).

    Returns:
        Sorted, non-overlapping relative paths; ``None`` when the whole tree must be
        walked again (the root itself, or an ignore file at the top).
    """
    wide: set[str] = set()
    for raw in paths:
        rel = raw.replace(os.sep, "/").strip("/")
        parent, _, name = rel.rpartition("/")
        if name in IGNORE_FILES or name in VENDOR_MARKERS:
            rel = parent
        if rel in ("", "."):
            return None
        wide.add(rel)
    return sorted(
        rel for rel in wide
        if not any(rel[:i] in wide for i, c in enumerate(rel) if c == "/")
    )


def walk_paths(
    root: Path, paths: Iterable[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[Entry]:
    """Walk only some paths of ``root``: what :func:`walk` yields for them and below them.

    The same rules apply (ignore files, secrets, binaries, size, links). A path that no
    longer exists, or that the full walk would not reach (inside an ignored, vendored or
    private folder), yields nothing. The full walk stays the reference; this one serves
    refreshes after a few files changed.

    Args:
        root: A git work tree or a plain directory.
        paths: Non-overlapping relative paths, as :func:`refresh_scope` returns them.
        max_bytes: Files larger than this are skipped as ``too_large``.

    Raises:
        RepositoryError: ``root`` is missing or not a directory.
    """
    root = _check_root(root)
    walker = _Walker(root.absolute(), max_bytes)
    for rel in paths:
        rel = rel.replace(os.sep, "/").strip("/")
        yield from walker.only(rel) if rel else walker.run()


def walk_summary(entries: Iterable[Entry]) -> dict[str, object]:
    """Count walked files and skipped entries by reason (for ``index --json``).

    Args:
        entries: The output of :func:`walk` (or any part of it).

    Returns:
        ``{"files": n, "bytes": total, "skipped": {reason: count, ...}}`` with reasons
        sorted by name.
    """
    files = size = 0
    skipped: Counter[str] = Counter()
    for entry in entries:
        if isinstance(entry, WalkedFile):
            files += 1
            size += entry.size
        else:
            skipped[entry.reason] += 1
    return {"files": files, "bytes": size, "skipped": dict(sorted(skipped.items()))}
