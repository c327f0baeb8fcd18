"""Finding cited lines again after the file changed.

A kept citation stores the lines' text as they were. ``relocate`` compares it with the
file now: unchanged lines open as they were; otherwise the window of the same height
that best matches the old text (``difflib`` ratio over characters) is proposed, if any is
close enough.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

MIN_RATIO = 0.5  # below this, nothing in the file resembles the cited lines


@dataclass(frozen=True)
class Relocation:
    """Where the cited lines are now.

    Attributes:
        start_line: First line (1-based) of the match.
        end_line: Last line (inclusive).
        exact: The text is unchanged (it may have moved: compare ``start_line``).
        ratio: Similarity of the match (1.0: identical text).
    """

    start_line: int
    end_line: int
    exact: bool
    ratio: float


def _norm(lines: list[str]) -> list[str]:
    return [line.rstrip() for line in lines]


def relocate(old_text: str, start_line: int, end_line: int, current: str) -> Relocation | None:
    """Where the cited lines (``old_text``, once at ``start_line..end_line``) are now.

    Returns:
        The exact place, or the nearest match, or None when nothing is close enough (or
        no old text was kept: then the old place is returned as exact when it exists).
    """
    lines = current.splitlines()
    if not old_text:
        if 1 <= start_line <= len(lines):
            return Relocation(start_line, min(end_line, len(lines)), True, 1.0)
        return None
    old = _norm(old_text.splitlines())
    height = max(1, len(old))
    now = _norm(lines)
    if now[start_line - 1:start_line - 1 + height] == old:
        return Relocation(start_line, start_line + height - 1, True, 1.0)
    target = "\n".join(old)
    best: Relocation | None = None
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for first in range(max(1, len(now) - height + 1)):
        window = now[first:first + height]
        if window == old:
            return Relocation(first + 1, first + height, True, 1.0)
        matcher.set_seq1("\n".join(window))
        floor = best.ratio if best else MIN_RATIO
        if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
            continue
        ratio = matcher.ratio()
        # Ties go to the window nearest the old place.
        if best is None or ratio > best.ratio or (
                ratio == best.ratio
                and abs(first + 1 - start_line) < abs(best.start_line - start_line)):
            best = Relocation(first + 1, first + len(window), False, ratio)
    return best if best is not None and best.ratio >= MIN_RATIO else None
