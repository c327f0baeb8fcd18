"""History evidence: past commits whose message is like the request, and the files they
changed.

A request to change code reads like a commit message, and the files that past commits
with similar messages touched are often the ones to touch again (and those that changed
together with them: co-change). When the repository has git history, the messages of the
last ``MAX_COMMITS`` non-merge commits are scored with BM25 against the request, and each
of the best ``TOP_COMMITS`` credits the files it changed, a commit that touched many
files crediting each less. Files that are no longer indexed get nothing.

The log is read once per ``HEAD`` (``git log``, a few hundred milliseconds on a large
repository) and kept with the index in memory; no history is stored.
"""

from __future__ import annotations

import logging
import math
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from greenpair.core.index import tokens

if TYPE_CHECKING:
    from greenpair.core.index.lexical import LexicalModel

log = logging.getLogger(__name__)

MAX_COMMITS = 5000
MAX_FILES = 20  # a commit touching more files (a sweep, a rename) says little about each
TOP_COMMITS = 20
K1, B = 1.2, 0.75
_TIMEOUT_S = 30


@dataclass
class History:
    """Commit messages (as term bags) and the files each changed, newest first."""

    head: str
    commits: list[str] = field(default_factory=list)  # commit hashes
    bags: list[Counter[str]] = field(default_factory=list)
    files: list[list[str]] = field(default_factory=list)
    df: Counter[str] = field(default_factory=Counter)
    avg_len: float = 1.0

    def scores(self, query: str, skip: int = 0) -> dict[str, float]:
        """Path → evidence from the commits most like ``query``.

        Args:
            query: The request.
            skip: Leave out the ``skip`` newest commits (to evaluate on past commits).
        """
        terms = [t for t in set(tokens.tokenize(query)) if t in self.df]
        n = len(self.bags)
        if not terms or n == 0:
            return {}
        idf = {t: math.log1p((n - self.df[t] + 0.5) / (self.df[t] + 0.5)) for t in terms}
        ranked: list[tuple[float, int]] = []
        for i in range(skip, n):
            bag = self.bags[i]
            length = sum(bag.values())
            score = 0.0
            for t in terms:
                tf = bag.get(t, 0)
                if tf:
                    score += idf[t] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / self.avg_len))
            if score > 0:
                ranked.append((score, i))
        ranked.sort(key=lambda si: (-si[0], si[1]))
        out: dict[str, float] = {}
        for score, i in ranked[:TOP_COMMITS]:
            share = score / math.sqrt(len(self.files[i]))
            for path in self.files[i]:
                out[path] = out.get(path, 0.0) + share
        return out


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True,
            timeout=_TIMEOUT_S, check=False, errors="replace",
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.info("no git history for %s: %s", repo, exc)
        return None
    return done.stdout if done.returncode == 0 else None


def _git_dir(repo: Path) -> Path | None:
    """The repository's git folder: ``.git``, or where a ``.git`` file points (a
    worktree, a submodule)."""
    dot_git = repo / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        text = dot_git.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    target = Path(text[len("gitdir:"):].strip())
    return target if target.is_absolute() else (repo / target).resolve()


def head_key(repo: Path) -> tuple[float, ...] | None:
    """A cheap key that changes when ``HEAD`` moves (a commit, a checkout, a pull): the
    times of ``.git/HEAD`` and of its reflog; None without a ``.git`` folder."""
    git_dir = _git_dir(repo)
    if git_dir is None:
        return None
    key = []
    for path in (git_dir / "HEAD", git_dir / "logs" / "HEAD"):
        try:
            key.append(path.stat().st_mtime)
        except OSError:
            key.append(0.0)
    return tuple(key) if key[0] else None


def load(repo: Path) -> History | None:
    """The history of ``repo``, or None when it has none (no git, no commits)."""
    if not (repo / ".git").exists():
        return None
    head = _git(repo, "rev-parse", "HEAD")
    if not head:
        return None
    out = _git(repo, "log", "--no-merges", f"-n{MAX_COMMITS}", "--name-only",
               "--no-renames", "--format=%x00%H%x01%B%x01")
    if out is None:
        return None
    history = History(head=head.strip())
    for record in out.split("\0")[1:]:
        sha, message, names = [*record.split("\x01"), "", ""][:3]
        files = [line for line in names.splitlines() if line.strip()]
        if not files or len(files) > MAX_FILES:
            continue
        history.commits.append(sha)
        history.bags.append(Counter(tokens.tokenize(message)))
        history.files.append(files)
    for bag in history.bags:
        history.df.update(bag.keys())
    if history.bags:
        history.avg_len = max(sum(sum(b.values()) for b in history.bags) / len(history.bags), 1)
    return history


def history_scores(
    history: History | None, lex: LexicalModel, query: str, skip: int = 0
) -> dict[int, float]:
    """File position (in ``lex.paths``) → history evidence for ``query``."""
    if history is None:
        return {}
    out: dict[int, float] = {}
    for path, score in history.scores(query, skip).items():
        f = lex.path_index.get(path)
        if f is not None:
            out[f] = score
    return out
