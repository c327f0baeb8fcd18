"""Line-range helpers shared by the chunkers, and the chunkers for text without a
grammar: documents by headings (Markdown, reStructuredText, TOML/INI sections, YAML keys),
everything else by line windows.

Row numbers here are 0-based; chunks carry 1-based inclusive lines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

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


_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")
_BRACKET = re.compile(r"^\s*\[+\s*([^\[\]]+?)\s*\]+\s*(?:[#;].*)?$")
_YAML_KEY = re.compile(r"^([A-Za-z_][\w.-]*)\s*:(?:\s|$)")


@dataclass
class _Heading:
    row: int  # first row (an overline, or the title)
    rows: int  # rows that are only the heading
    level: int
    title: str


def _markdown_headings(lines: list[str]) -> list[_Heading]:
    """ATX and setext headings outside fenced code."""
    found: list[_Heading] = []
    fence: str | None = None
    for row, line in enumerate(lines):
        match = _FENCE.match(line)
        if match:
            fence = None if fence == match.group(1) else (fence or match.group(1))
            continue
        if fence is not None:
            continue
        atx = _ATX.match(line)
        if atx:
            found.append(_Heading(row, 1, len(atx.group(1)), atx.group(2)))
            continue
        under = _SETEXT.match(lines[row + 1]) if row + 1 < len(lines) else None
        if (
            under and line.strip() and not line[0].isspace() and line[0] not in "-*+>|#"
            and (row == 0 or not lines[row - 1].strip())
        ):
            found.append(_Heading(row, 2, 1 if under.group(1)[0] == "=" else 2, line.strip()))
    return found


def _rst_headings(lines: list[str]) -> list[_Heading]:
    """Underlined (optionally overlined) titles; levels follow the order styles appear."""
    found: list[_Heading] = []
    styles: dict[tuple[str, bool], int] = {}
    for row in range(len(lines) - 1):
        title, under = lines[row], lines[row + 1]
        if not title.strip() or _ADORNMENT.match(title) or not _ADORNMENT.match(under):
            continue
        over = row > 0 and lines[row - 1].rstrip() == under.rstrip()
        if len(under.rstrip()) < len(title.rstrip()) or (title[0].isspace() and not over):
            continue
        style = (under[0], over)
        level = styles.setdefault(style, len(styles) + 1)
        found.append(_Heading(row - 1 if over else row, 3 if over else 2, level, title.strip()))
    return found


def _key_headings(lines: list[str], pattern: re.Pattern[str]) -> list[_Heading]:
    """``[section]`` lines of TOML/INI, top-level keys of YAML."""
    return [  # the heading line holds content itself (``name: ci``), so it takes 0 rows
        _Heading(row, 0, 1, match.group(1))
        for row, line in enumerate(lines)
        if (match := pattern.match(line))
    ]


def headings(language: str, lines: list[str]) -> list[_Heading]:
    """The section headings of a document, for the languages that have them."""
    if language == "markdown":
        return _markdown_headings(lines)
    if language == "rst":
        return _rst_headings(lines)
    if language in {"toml", "ini"}:
        return _key_headings(lines, _BRACKET)
    if language == "yaml":
        return _key_headings(lines, _YAML_KEY)
    return []


@dataclass
class _Section:
    start: int
    end: int
    level: int
    symbol: str | None
    parent: str | None
    lone: bool  # a heading with nothing under it (yet)


def _sections(lines: list[str], found: list[_Heading]) -> list[_Section]:
    sections: list[_Section] = []
    if found[0].row > 0:
        preamble = any(line.strip() for line in lines[: found[0].row])
        sections.append(_Section(0, found[0].row - 1, 0, None, None, not preamble))
    stack: list[tuple[int, str]] = []
    for index, heading in enumerate(found):
        end = found[index + 1].row - 1 if index + 1 < len(found) else len(lines) - 1
        while stack and stack[-1][0] >= heading.level:
            stack.pop()
        parent = stack[-1][1] if stack else None
        stack.append((heading.level, heading.title))
        body = lines[heading.row + heading.rows : end + 1]
        lone = not any(line.strip() for line in body)
        sections.append(_Section(heading.row, end, heading.level, heading.title, parent, lone))
    return sections


def section_chunks(
    path: str, language: str, lines: list[str], max_lines: int
) -> list[Chunk]:
    """One chunk per heading section (symbol: the heading, parent: the enclosing one).

    A heading with nothing under it joins the next section; short neighbouring sections
    of one level join up to half a window; long sections are cut into pieces that name
    their heading. Documents without headings get line windows.
    """
    found = headings(language, lines)
    if not found:
        return window_chunks(path, language, lines, max_lines)
    small = max(1, min(max_lines, WINDOW_LINES) // 2)
    groups: list[_Section] = []
    for section in _sections(lines, found):
        group = groups[-1] if groups else None
        if group is not None and (
            group.lone
            or (group.symbol is not None and section.level >= group.level
                and section.end - group.start + 1 <= small)
        ):
            if group.lone or group.symbol is None:
                group.symbol, group.parent = section.symbol, section.parent
                group.level = section.level if group.lone else group.level
            group.end = section.end
            group.lone = group.lone and section.lone
            continue
        groups.append(section)
    priority = blank_priority(lines)
    chunks: list[Chunk] = []
    for group in groups:
        kind = "section" if group.symbol else "text"
        for first, last in split_rows(group.start, group.end, max_lines, priority):
            header = None
            if first != group.start and group.symbol:
                header = context_header(language, group.symbol, None)
            chunks.append(
                make_chunk(path, language, lines, first, last, kind=kind,
                           symbol=group.symbol, parent=group.parent, header=header)
            )
    return chunks
