"""Line-range helpers shared by the chunkers, and the chunkers for text without a
grammar: Markdown by headings, everything else by line windows.

Row numbers here are 0-based; chunks carry 1-based inclusive lines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from greenpair.core.types import Chunk

WINDOW_LINES = 60
OVERLAP_LINES = 4
_NO_BOUNDARY = 9

_HASH_COMMENT = frozenset(
    {"python", "ruby", "bash", "yaml", "toml", "ini", "make", "dockerfile", "perl", "r",
     "cmake", "text", "rst"}
)


def comment_token(language: str | None) -> str:
    """The line-comment marker used to prefix context headers of split pieces."""
    if language in _HASH_COMMENT or language is None:
        return "#"
    if language in {"sql", "lua"}:
        return "--"
    if language in {"markdown", "html", "xml"}:
        return ""
    return "//"


def context_header(language: str | None, label: str, signature: str | None) -> str:
    """The line put above a piece of a split definition so it keeps its context."""
    marker = comment_token(language)
    text = f"in {label}: {signature}" if signature else f"in {label}"
    return f"{marker} {text}" if marker else f"({text})"


def split_rows(
    start: int, end: int, max_lines: int, priority: Callable[[int], int]
) -> list[tuple[int, int]]:
    """Cut rows ``start..end`` into pieces of at most ``max_lines`` rows.

    Pieces are balanced in size, and each cut is placed at the row (the first row of the
    next piece) with the best (lowest) ``priority`` within reach, nearest the balanced
    position.

    Returns:
        Inclusive ``(first_row, last_row)`` pairs covering the range, in order.
    """
    max_lines = max(1, max_lines)
    pieces: list[tuple[int, int]] = []
    while end - start + 1 > max_lines:
        remaining = end - start + 1
        count = math.ceil(remaining / max_lines)
        target = start + math.ceil(remaining / count)
        low = start + max(1, max_lines // 2)
        best = min(
            range(low, start + max_lines + 1),
            key=lambda row: (priority(row), abs(row - target)),
        )
        pieces.append((start, best - 1))
        start = best
    pieces.append((start, end))
    return pieces


def blank_priority(lines: list[str]) -> Callable[[int], int]:
    """Cut priorities that prefer the row after a blank line."""

    def priority(row: int) -> int:
        return 4 if row > 0 and not lines[row - 1].strip() else _NO_BOUNDARY

    return priority


def make_chunk(
    path: str,
    language: str,
    lines: list[str],
    first: int,
    last: int,
    *,
    kind: str = "text",
    symbol: str | None = None,
    parent: str | None = None,
    signature: str | None = None,
    header: str | None = None,
) -> Chunk:
    """A chunk of rows ``first..last`` (0-based), optionally prefixed by a context line."""
    body = "\n".join(lines[first : last + 1])
    return Chunk(
        path=path,
        language=language,
        start_line=first + 1,
        end_line=last + 1,
        text=f"{header}\n{body}" if header else body,
        kind=kind,
        symbol=symbol,
        parent=parent,
        signature=signature,
    )


def window_chunks(
    path: str, language: str, lines: list[str], max_lines: int
) -> list[Chunk]:
    """Line windows of at most ``min(max_lines, 60)`` lines, cut after blank lines where
    possible; a window cut mid-paragraph overlaps the next one by a few lines."""
    size = max(1, min(max_lines, WINDOW_LINES))
    overlap = min(OVERLAP_LINES, size // 4)
    priority = blank_priority(lines)
    chunks: list[Chunk] = []
    start, last = 0, len(lines) - 1
    while True:
        if last - start + 1 <= size:
            chunks.append(make_chunk(path, language, lines, start, last))
            return chunks
        low = start + max(1, size // 2)
        cut = min(range(low, start + size + 1), key=lambda row: (priority(row), -row))
        chunks.append(make_chunk(path, language, lines, start, cut - 1))
        start = cut if priority(cut) != _NO_BOUNDARY else cut - overlap


_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """``(row, level, title)`` of the ATX headings outside fenced code."""
    found = []
    fence: str | None = None
    for row, line in enumerate(lines):
        match = _FENCE.match(line)
        if match:
            fence = None if fence == match.group(1) else (fence or match.group(1))
            continue
        if fence is None:
            heading = _HEADING.match(line)
            if heading:
                found.append((row, len(heading.group(1)), heading.group(2)))
    return found


def markdown_chunks(
    path: str, language: str, lines: list[str], max_lines: int
) -> list[Chunk]:
    """One chunk per heading section (symbol: the heading, parent: the enclosing one).

    Sections that are only a heading join the next section; long sections are cut into
    windows that repeat the heading as context.
    """
    headings = _headings(lines)
    starts = [row for row, _, _ in headings]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    info = {row: (level, title) for row, level, title in headings}
    sections: list[tuple[int, int]] = []
    for index, row in enumerate(starts):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(lines) - 1
        sections.append((row, end))
    merged: list[tuple[int, int]] = []
    pending: int | None = None
    for first, last in sections:
        content = [line for line in lines[first : last + 1] if line.strip()]
        begin = first if pending is None else pending
        if len(content) <= 1 and first in info and last < len(lines) - 1:
            pending = begin  # a lone heading: keep it with what follows
            continue
        pending = None
        merged.append((begin, last))
    if pending is not None:
        merged.append((pending, len(lines) - 1))
    stack: list[tuple[int, str]] = []
    chunks: list[Chunk] = []
    priority = blank_priority(lines)
    for begin, last in merged:
        symbol = parent = None
        for row in range(begin, last + 1):
            if row in info:
                level, title = info[row]
                while stack and stack[-1][0] >= level:
                    stack.pop()
                parent = stack[-1][1] if stack else None
                stack.append((level, title))
                symbol = title
        kind = "section" if symbol else "text"
        for first, end in split_rows(begin, last, max_lines, priority):
            header = None
            if first != begin and symbol:
                header = context_header(language, symbol, None)
            chunks.append(
                make_chunk(path, language, lines, first, end, kind=kind, symbol=symbol,
                           parent=parent, header=header)
            )
    return chunks
