"""Closing lines a SEARCH/REPLACE edit dropped or wrote twice.

A small model that rewrites a block often stops copying one line too early: the SEARCH
ends with ``    }`` and the REPLACE does not, so the edit unbalances the file and
breaks its syntax (commander.js drafts, ``benchmarks/patch_bench/README.md``). Or it
ends its REPLACE with a closer that the code after the block already has.

When an edit breaks the syntax, ``mend_closers`` tries, per block, the REPLACE with the
SEARCH's last closing lines appended (the ones it dropped) or with its own last closing
lines taken off (a closer written twice), fewest lines first. A variant is kept only
when the file then has fewer syntax errors, and the mended edit is used only when it
passes every check a draft must pass. The restored lines are the file's own, so nothing
new is invented; whether the change is right is still for the check to say.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from greenpair.core.assistant.patch.edits import Edit
from greenpair.core.errors import PatchError

CLOSER = re.compile(r"^[)\]}][)\]};,]*$")  # "}", "});", "],", "))"
MAX_LINES = 3  # closing lines restored or taken off per block
MENDED = "closers"  # the match method a mended block adds to its change


def _body(text: str) -> list[str]:
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _closer_tail(lines: list[str]) -> int:
    """How many of the last lines are closing lines only."""
    count = 0
    for line in reversed(lines):
        if not CLOSER.match(line.strip()):
            break
        count += 1
    return count


def variants(edit: Edit) -> list[Edit]:
    """The block with the SEARCH's last 1..3 closing lines appended to its REPLACE, then
    with the REPLACE's own last 1..3 closing lines taken off (fewest first)."""
    if edit.kind != "search_replace" or not edit.search.strip():
        return []
    search, replace = _body(edit.search), _body(edit.replace)
    out = []
    for k in range(1, min(_closer_tail(search), MAX_LINES) + 1):
        out.append(replace + search[-k:])
    for k in range(1, min(_closer_tail(replace), MAX_LINES) + 1):
        out.append(replace[:-k])
    return [dataclasses.replace(edit, replace="".join(ln + "\n" for ln in lines))
            for lines in out if lines != replace]


def mend_closers(edits: Sequence[Edit], errors: Callable[[Sequence[Edit]], int | None]
                 ) -> list[Edit] | None:
    """Edits whose closing lines make the files parse, or None.

    Args:
        edits: The model's edits, in order.
        errors: How many new syntax errors the edits make (0: none; None: they do not
            apply at all).

    Returns:
        The edits with mended blocks, when ``errors`` says they add no syntax error;
        None when no variant gets there.
    """
    current = list(edits)
    score = errors(current)
    if score is None or score == 0:
        return None
    for edit in dict.fromkeys(edits):  # a block written twice is mended once, everywhere
        for variant in variants(edit):
            trial = [variant if e == edit else e for e in current]
            try:
                found = errors(trial)
            except PatchError:
                continue
            if found is not None and found < score:
                current, score = trial, found
                break
        if score == 0:
            return current
    return None
