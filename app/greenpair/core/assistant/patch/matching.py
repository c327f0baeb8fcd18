"""Find the lines a model meant to change, tolerantly.

Small models copy code almost exactly: an indentation level off, a blank line lost, a
trailing space, a mistyped word. Matching tries, in order: exact lines, then lines equal
after stripping whitespace (blank lines ignored), then the most similar window of lines
above a difflib similarity threshold. When the match was not exact, the replacement is
re-indented by the same offset as the found code.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

FUZZY_THRESHOLD = 0.85


@dataclass(frozen=True)
class Match:
    """Lines ``start``..``end`` (0-based, end exclusive) of the file, and how they matched."""

    start: int
    end: int
    method: str  # exact, whitespace, fuzzy
    score: float = 1.0
    indent_delta: int = 0  # file indent minus the model's indent


def indent_width(line: str) -> int:
    """The width of ``line``'s leading spaces and tabs."""
    return len(line) - len(line.lstrip(" \t"))


def _first_indent(lines: list[str]) -> int:
    return next((indent_width(ln) for ln in lines if ln.strip()), 0)


def _nearest(starts: list[int], hint: int | None) -> int:
    if hint is None:
        return starts[0]
    return min(starts, key=lambda s: abs(s - hint))


def _trim_blank(lines: list[str]) -> list[str]:
    lo, hi = 0, len(lines)
    while lo < hi and not lines[lo].strip():
        lo += 1
    while hi > lo and not lines[hi - 1].strip():
        hi -= 1
    return lines[lo:hi]


def find_span(file_lines: list[str], search_lines: list[str], *, hint: int | None = None,
              threshold: float = FUZZY_THRESHOLD) -> Match | None:
    """Where ``search_lines`` occur in ``file_lines`` (lines without line ends).

    Args:
        file_lines: The file, one string per line, no ``\\n``.
        search_lines: What the model says is there.
        hint: A 0-based line near where the code is expected (the snippet shown), used to
            choose between several equal matches.
        threshold: Lowest difflib ratio accepted by the fuzzy pass.

    Returns:
        The match, or None when nothing is close enough.
    """
    search = _trim_blank([ln.rstrip() for ln in search_lines])
    if not search:
        return None
    n = len(search)
    rstripped = [ln.rstrip() for ln in file_lines]
    exact = [i for i in range(len(rstripped) - n + 1) if rstripped[i : i + n] == search]
    if exact:
        start = _nearest(exact, hint)
        return Match(start, start + n, "exact")
    # Whitespace-insensitive: compare stripped, non-blank lines.
    body = [(i, ln.strip()) for i, ln in enumerate(file_lines) if ln.strip()]
    wanted = [ln.strip() for ln in search if ln.strip()]
    m = len(wanted)
    texts = [t for _, t in body]
    loose = [k for k in range(len(body) - m + 1) if texts[k : k + m] == wanted]
    if loose:
        k = _nearest(loose, None if hint is None else _body_index(body, hint))
        start, end = body[k][0], body[k + m - 1][0] + 1
        delta = _first_indent(file_lines[start:end]) - _first_indent(search)
        return Match(start, end, "whitespace", 1.0, delta)
    return _fuzzy(file_lines, body, wanted, search, hint, threshold)


def _body_index(body: list[tuple[int, str]], line: int) -> int:
    return min(range(len(body)), key=lambda k: abs(body[k][0] - line)) if body else 0


def _fuzzy(file_lines: list[str], body: list[tuple[int, str]], wanted: list[str],
           search: list[str], hint: int | None, threshold: float) -> Match | None:
    target = "\n".join(wanted)
    m = len(wanted)
    best: tuple[float, int, int] | None = None
    for size in range(max(1, m - 2), m + 3):
        for k in range(len(body) - size + 1):
            window = "\n".join(t for _, t in body[k : k + size])
            sm = difflib.SequenceMatcher(None, target, window, autojunk=False)
            if sm.real_quick_ratio() < threshold or sm.quick_ratio() < threshold:
                continue
            ratio = sm.ratio()
            if ratio < threshold:
                continue
            dist = 0 if hint is None else abs(body[k][0] - hint)
            if best is None or (ratio, -dist) > (best[0], -_dist(body, best[1], hint)):
                best = (ratio, k, size)
    if best is None:
        return None
    ratio, k, size = best
    start, end = body[k][0], body[k + size - 1][0] + 1
    delta = _first_indent(file_lines[start:end]) - _first_indent(search)
    return Match(start, end, "fuzzy", ratio, delta)


def _dist(body: list[tuple[int, str]], k: int, hint: int | None) -> int:
    return 0 if hint is None else abs(body[k][0] - hint)


def reindent(lines: list[str], delta: int) -> list[str]:
    """Shift ``lines`` right (``delta`` > 0) or left by ``delta`` columns."""
    if delta == 0:
        return list(lines)
    out = []
    for line in lines:
        if not line.strip():
            out.append(line)
        elif delta > 0:
            out.append(" " * delta + line)
        else:
            cut = min(-delta, indent_width(line))
            out.append(line[cut:])
    return out


def _with_indent(width: int, text: str, like: str) -> str:
    unit = "\t" if like[:1] == "\t" else " "
    return unit * max(0, width) + text.lstrip(" \t")


def fit_replacement(found: list[str], search: list[str], replace: list[str],
                    delta: int = 0) -> list[str]:
    """The replacement lines, indented like the file rather than like the model's copy.

    When the match was not exact, the model's copy of the code is off (an indent level, a
    dropped diff prefix space). Lines the replacement keeps from the search text are taken
    verbatim from the file; a changed line gets its file line's indentation (plus any
    change the model made to it); an inserted line keeps its indentation relative to the
    line above it.

    Args:
        found: The file's lines that matched (no line ends).
        search: The model's search lines.
        replace: The model's replacement lines.
        delta: Fallback indent shift (file minus model) when nothing anchors a line.
    """
    strip = [ln.strip() for ln in search]
    s2f: dict[int, int] = {}
    opcodes = difflib.SequenceMatcher(None, strip, [ln.strip() for ln in found],
                                      autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            s2f.update({i1 + k: j1 + k for k in range(i2 - i1)})
    out: list[str] = []
    prev: tuple[str, str] | None = None  # (model line, output line) of the last line written
    opcodes = difflib.SequenceMatcher(None, strip, [ln.strip() for ln in replace],
                                      autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        for k in range(j2 - j1):
            line = replace[j1 + k]
            si = i1 + min(k, i2 - i1 - 1) if i2 > i1 else None
            if not line.strip():
                out.append("")
                continue
            if tag == "equal" and si is not None and si in s2f:
                new = found[s2f[si]]
            elif tag == "replace" and si is not None and si in s2f:
                ref = found[s2f[si]]
                new = _with_indent(indent_width(ref) + indent_width(line) - indent_width(search[si]), line, ref)
            elif prev is not None:
                model, written = prev
                new = _with_indent(indent_width(written) + indent_width(line) - indent_width(model), line,
                                   written)
            else:
                new = reindent([line], delta)[0]
            out.append(new)
            prev = (line, new)
    return out


def similarity(a: str, b: str) -> float:
    """difflib ratio of two texts (used to report how close a failed match came)."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
