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

from greenpair.core.assistant.ask.context import Snippet

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


_MENTION = re.compile(r"`([A-Za-z_][\w.]*)(?:\(\))?`|\b([A-Za-z]+_\w+|[a-z]+[A-Z]\w*)\b")
_DEFINES = r"^\s*(?:@.*\n\s*)*(?:export\s+)?(?:async\s+)?(?:def|class|function|fn|func|interface|struct|enum|trait|type)\s+{}\b"


def mentioned_symbols(text: str) -> list[str]:
    """Identifiers an answer names: anything in backticks, and snake_case or camelCase words."""
    names: list[str] = []
    for m in _MENTION.finditer(text):
        name = (m.group(1) or m.group(2)).rsplit(".", 1)[-1]
        if name.startswith("__") and name.endswith("__"):
            continue  # __init__ and friends are defined everywhere
        if len(name) > 2 and name not in names:
            names.append(name)
    return names


MAX_MENTION_CITATIONS = 3


def mention_citations(text: str, snippets: Sequence[Snippet],
                      known: Sequence[Citation] = ()) -> list[Citation]:
    """Cite the shown snippets that define a function or class the answer names.

    The model often names the right function but cites another snippet (or none); a
    definition it names is grounded in what it was shown, so it is cited too.
    """
    out: list[Citation] = []
    for name in mentioned_symbols(text):
        pattern = re.compile(_DEFINES.format(re.escape(name)), re.MULTILINE)
        for s in snippets:
            if not pattern.search(s.text):
                continue
            cite = Citation(s.path, s.start_line, s.end_line)
            overlaps = any(c.path == cite.path and c.start_line <= cite.end_line
                           and c.end_line >= cite.start_line for c in [*known, *out])
            if not overlaps:
                out.append(cite)
    return out[:MAX_MENTION_CITATIONS]


def fallback_citations(snippets: Sequence[Snippet], n: int = 2) -> list[Citation]:
    """Cite the ``n`` most relevant snippets used (when the model cited nothing valid)."""
    return [Citation(s.path, s.start_line, s.end_line) for s in snippets[:n]]


@dataclass
class CitationCheck:
    """The outcome of checking an answer's citations."""

    citations: list[Citation]  # valid: written by the model, then named definitions
    rejected: list[Citation]
    mentioned: int = 0  # of ``citations``, added for a definition the answer names
    fallback: bool = False  # ``citations`` are the top snippets: nothing valid was cited


def check_answer(text: str, shown: Sequence[Snippet], *, mentions: bool = True,
                 fallback: int = 2, pool: Sequence[Snippet] | None = None) -> CitationCheck:
    """Validate an answer's citations against the snippets shown in the conversation.

    Args:
        text: The answer.
        shown: Every snippet the model was shown.
        mentions: Also cite snippets defining a function or class the answer names.
        fallback: When nothing valid is cited, cite this many top snippets of ``pool``.
        pool: The snippets of this turn, best first (default: ``shown``).
    """
    checked = validate_citations(text, shown)
    valid = [c for c in checked if c.valid]
    rejected = [c for c in checked if not c.valid]
    added = mention_citations(text, shown, valid) if mentions else []
    result = CitationCheck([*valid, *added], rejected, len(added))
    if not result.citations and fallback > 0:
        result.citations = fallback_citations(pool or shown, fallback)
        result.fallback = bool(result.citations)
    return result
