"""Close a cut-off edit block where the model's own text shows where it ends.

Under the edit grammar a reply can only be malformed by being cut off: the token budget
or the repetition guard stops it inside a block. On real requests (`benchmarks/
patch_real.py`) the usual cause is a run-on REPLACE part: the small model rewrote the lines
of its SEARCH part, then went on copying the lines that *follow* them in the file,
unchanged, until the budget ran out or the copy started to loop. Those copied lines are
not part of the edit (the file keeps them anyway); the block's REPLACE part is what came
before the copy began. ``close_run_on`` finds that point and closes the block there:

* the REPLACE lines written so far (the last, unfinished line dropped; a tail that
  repeats one run of lines kept once);
* the file's lines right after the SEARCH run;
* the first REPLACE line from which the rest is a copy of those lines (at least
  ``MIN_COPY`` lines copied, or all that was written if that is shorter and holds text).

The model also sometimes closes a block after other text on the line (`` * >>>>>>>
REPLACE`` inside a doc comment); the grammar takes the marker only at the start of a
line, so the block stays open and the model pads it with blank lines until the loop guard
stops it. Such a line closes the block too.

A whole-function reply cut off inside a rewrite of a Python class (``close_class_rewrite``)
keeps the methods it finished: the block ends before the method the cut interrupted, and
the edit rewrites those methods one by one (``editing`` treats a class that leaves methods
out as changes to the methods it holds).

Nothing is invented: a block is only closed where the model's own text shows its end, and
the result is checked like any reply (it applies, parses and changes more than whitespace).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from greenpair.core.assistant.patch.edit_grammar import complete_prefix
from greenpair.core.assistant.patch.editing import METHOD_LINE, def_line, is_decorator

MIN_COPY = 3  # lines copied from after the SEARCH run that show the REPLACE ran on
MAX_LOOP = 8  # longest run of lines a looping tail repeats
MAX_SKIP = 2  # following lines a run-on copy may leave out at the seam

_OPEN = "<<<<<<< SEARCH\n"
_DIVIDER = "=======\n"
_CLOSE = ">>>>>>> REPLACE\n"


def _drop_loop(lines: list[str]) -> list[str]:
    """``lines`` with a tail that repeats one run of lines kept once."""
    out = list(lines)
    changed = True
    while changed:
        changed = False
        for p in range(1, MAX_LOOP + 1):
            if len(out) >= 2 * p and out[-p:] == out[-2 * p:-p]:
                del out[-p:]
                changed = True
                break
    return out


def _copy_start(replace: list[str], after: list[str]) -> int | None:
    """The first index from which ``replace`` copies ``after`` (None: it does not); the
    copy may skip up to ``MAX_SKIP`` of the first following lines (a blank or ``*`` line
    at the seam)."""
    for k in range(1, len(replace)):
        for j in range(min(MAX_SKIP, len(after) - 1) + 1):
            m = 0
            while k + m < len(replace) and j + m < len(after) \
                    and replace[k + m] == after[j + m]:
                m += 1
            if not any(len(line.strip()) > 3 for line in after[j:j + m]):
                continue  # blank lines and lone brackets are no evidence of a copy
            if m >= MIN_COPY or k + m == len(replace):
                return k
    return None


def _closing_line(replace: list[str]) -> int | None:
    """Index of a line that ends with the close marker after other text (`` * >>>>>>>
    REPLACE``: the model closed the block, but the grammar only takes the marker at the
    start of a line, so the block stayed open)."""
    for i, line in enumerate(replace):
        if line.rstrip().endswith(_CLOSE.strip()):
            return i
    return None


def _find_run(lines: list[str], run: list[str]) -> int | None:
    """Index just after the first occurrence of ``run`` in ``lines``."""
    n = len(run)
    for i in range(len(lines) - n + 1):
        if lines[i:i + n] == run:
            return i + n
    return None


def close_run_on(reply: str, read_lines: Callable[[str], list[str] | None]) -> str | None:
    """``reply`` (a cut-off SEARCH/REPLACE reply) with its open block closed where its
    REPLACE part began copying the file's following lines, or at a line the model ended
    with the close marker; None when neither is there.

    ``read_lines(path)`` gives a shown file's lines with their line ends.
    """
    done = complete_prefix("search_replace", reply)
    rest = reply[len(done):]
    head, sep, tail = rest.partition(_OPEN)
    if not sep or not head.endswith("\n") or "\n" in head[:-1]:
        return None
    block = tail.splitlines(keepends=True)
    if _DIVIDER not in block:
        return None
    cut = block.index(_DIVIDER)
    search_text, replace_text = "".join(block[:cut]), "".join(block[cut + 1:])
    lines = read_lines(head[:-1])
    if not lines:
        return None
    end = _find_run(lines, search_text.splitlines(keepends=True))
    if end is None:
        return None
    written = replace_text.splitlines(keepends=True)
    if written and not written[-1].endswith("\n"):
        written.pop()  # the line the cut interrupted
    closing = _closing_line(written)
    k: int | None
    if closing is not None:
        text = written[closing].rstrip()[:-len(_CLOSE.strip())]
        written = written[:closing] + ([text.rstrip() + "\n"] if re.search(r"\w", text) else [])
        k = len(written)
    else:
        written = _drop_loop(written)
        k = _copy_start(written, lines[end:])
    if k is None:
        return None
    return done + head + _OPEN + search_text + _DIVIDER + "".join(written[:k]) + _CLOSE


def close_class_rewrite(reply: str) -> str | None:
    """``reply`` (a cut-off whole-function reply) with an open rewrite of a Python class
    closed before the method the cut interrupted; None unless at least one method of the
    class was finished."""
    done = complete_prefix("function", reply)
    lines = reply[len(done):].splitlines(keepends=True)
    if len(lines) < 3 or not lines[0].rstrip().endswith((".py", ".pyi")) \
            or not lines[1].startswith("```"):
        return None
    code = lines[2:]
    if code and not code[-1].endswith("\n"):
        code.pop()  # the line the cut interrupted
    if not def_line(code).lstrip().startswith("class "):
        return None
    starts = [(i, len(m.group(1))) for i, ln in enumerate(code) if (m := METHOD_LINE.match(ln))]
    level = min((indent for _, indent in starts), default=0)
    methods = [i for i, indent in starts if indent == level]
    if len(methods) < 2:
        return None  # no method finished before the cut
    end = methods[-1]  # the method being written when the cut came
    while end > 0 and (is_decorator(code[end - 1]) or not code[end - 1].strip()):
        end -= 1
    return done + lines[0] + lines[1] + "".join(code[:end]) + "```\n"
