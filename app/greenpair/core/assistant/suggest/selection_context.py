"""Repository context for a selection: find the file the selected text comes from.

When the selection is found in a file of the current repository, a completion gets the
file's real surroundings: the text before the selection's end as the prefix and what
follows it as the suffix (fill-in-the-middle), instead of the bare selection.

Qt-free (the popup runs it in a worker thread). ``git grep`` finds candidate files by the
selection's longest line (tracked files only, fast); a plain directory is walked with
core's walker, which already skips secrets, binaries and huge files.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CONTEXT_CHARS = 6000
MIN_PROBE_CHARS = 6
MAX_CANDIDATES = 40
MAX_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class RepoMatch:
    """Where the selection was found: ``path`` (repo-relative) at ``start``–``end``."""

    path: str
    start: int
    end: int
    text: str  # the whole file

    def completion_text(self, cursor: str) -> str:
        """The file around the selection's end, with ``cursor`` where the suggestion goes."""
        before = self.text[max(0, self.end - CONTEXT_CHARS):self.end]
        after = self.text[self.end:self.end + CONTEXT_CHARS]
        return before + cursor + after

    @property
    def line(self) -> int:
        """The 1-based line where the selection starts."""
        return self.text.count("\n", 0, self.start) + 1


def _probe(selection: str) -> str | None:
    lines = [ln.strip() for ln in selection.splitlines()]
    lines = [ln for ln in lines if len(ln) >= MIN_PROBE_CHARS]
    return max(lines, key=len) if lines else None


def _git_candidates(repo: Path, probe: str) -> list[str] | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "grep", "-l", "-I", "-F", "-e", probe],
            capture_output=True, text=True, timeout=5, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode not in (0, 1):  # 1: no match; anything else: not a git work tree
        return None
    return done.stdout.splitlines()[:MAX_CANDIDATES]


def _locate(text: str, selection: str) -> tuple[int, int] | None:
    for needle in (selection, selection.strip()):
        if needle:
            start = text.find(needle)
            if start >= 0:
                return start, start + len(needle)
    return None


def find_in_repo(selection: str, repo: Path | None) -> RepoMatch | None:
    """The file of ``repo`` holding ``selection``, or None.

    Secret files are never opened (the same deny-list as the index).
    """
    if repo is None or not repo.is_dir():
        return None
    probe = _probe(selection)
    if probe is None:
        return None
    from greenpair.core.repo.filters import is_secret_path

    candidates = _git_candidates(repo, probe)
    if candidates is None:
        return _walk_for(selection, repo, probe)
    for rel in candidates:
        if is_secret_path(rel):
            continue
        path = repo / rel
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
        except OSError:
            continue
        span = _locate(text, selection)
        if span is not None:
            return RepoMatch(rel, span[0], span[1], text)
    return None


def _walk_for(selection: str, repo: Path, probe: str) -> RepoMatch | None:
    from greenpair.core.repo.walker import WalkedFile, walk

    for entry in walk(repo, max_bytes=MAX_FILE_BYTES):
        if isinstance(entry, WalkedFile) and probe in entry.text:
            span = _locate(entry.text, selection)
            if span is not None:
                return RepoMatch(entry.path, span[0], span[1], entry.text)
    return None
