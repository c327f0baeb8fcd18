"""Citations: find the ``path:start-end`` references in an answer and check them.

A citation is valid when its path is one of the snippets shown to the model (a unique
path suffix such as ``cart.py`` is resolved) and its line range overlaps a shown range.
Valid citations are clamped to the shown lines so that clicking one opens code the model
actually saw.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from greenpair.core.assistant.context import Snippet

# path:12-40, path:12, path#L12-L40, `path` lines 12-40 (path must have an extension)
_CITATION = re.compile(
    r"(?P<path>(?:[\w.\-]+/)*[\w.\-]*\w\.[A-Za-z0-9_]{1,10})"
    r"(?:(?::|#L|,? lines? )(?P<start>\d+)(?:\s*[-–]\s*L?(?P<end>\d+))?)?"
)


@dataclass(frozen=True)
class Citation:
    """A reference to lines of a repository file (1-based, inclusive)."""

    path: str
    start_line: int
    end_line: int
    valid: bool = True

    def to_json(self) -> dict[str, object]:
        """The ``ask --json`` citation object."""
        return {"path": self.path, "start_line": self.start_line, "end_line": self.end_line}

    def __str__(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}"


def extract_citations(text: str) -> list[tuple[str, int | None, int | None]]:
    """Every ``path[:start[-end]]`` mention in ``text``, in order, without duplicates."""
    found: list[tuple[str, int | None, int | None]] = []
    for m in _CITATION.finditer(text):
        path = m.group("path").strip(".")
        if "." not in path.rsplit("/", 1)[-1] or path.replace(".", "").isdigit():
            continue  # "3.6", "e.g." and other non-paths
        start = int(m.group("start")) if m.group("start") else None
        if start is None and "/" not in path and len(path.rsplit(".", 1)[1]) < 2:
            continue  # "e.g", "i.e": a bare path needs a folder or a real extension
        end = int(m.group("end")) if m.group("end") else start
        if start is not None and end is not None and end < start:
            start, end = end, start
        item = (path, start, end)
        if item not in found:
            found.append(item)
    return found


def _resolve_path(path: str, shown: Sequence[str]) -> str | None:
    if path in shown:
        return path
    clean = path.lstrip("./")
    matches = [p for p in shown if p == clean or p.endswith("/" + clean)]
    return matches[0] if len(matches) == 1 else None


def validate_citations(text: str, snippets: Sequence[Snippet]) -> list[Citation]:
    """The citations written in ``text``, each marked valid or not against ``snippets``.

    A bare path (no lines) that was shown cites the first shown range of that file. A
    mention of a path that was never shown is returned as invalid only when it carries
    line numbers (prose often names files such as ``setup.py`` in passing).
    """
    shown_paths = list(dict.fromkeys(s.path for s in snippets))
    out: list[Citation] = []
    for raw_path, start, end in extract_citations(text):
        path = _resolve_path(raw_path, shown_paths)
        if path is None:
            if start is not None and end is not None:
                out.append(Citation(raw_path, start, end, valid=False))
            continue
        ranges = [s for s in snippets if s.path == path]
        if start is None or end is None:
            cite = Citation(path, ranges[0].start_line, ranges[0].end_line)
        else:
            hits = [s for s in ranges if start <= s.end_line and end >= s.start_line]
            if not hits:
                cite = Citation(path, start, end, valid=False)
            else:
                lo = max(start, min(s.start_line for s in hits))
                hi = min(end, max(s.end_line for s in hits))
                cite = Citation(path, lo, hi)
        if cite not in out:
            out.append(cite)
    return out


def fallback_citations(snippets: Sequence[Snippet], n: int = 2) -> list[Citation]:
    """Cite the ``n`` most relevant snippets used (when the model cited nothing valid)."""
    return [Citation(s.path, s.start_line, s.end_line) for s in snippets[:n]]
