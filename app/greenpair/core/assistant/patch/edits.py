"""Edit formats a model can write, and their parsers.

Three formats are supported (``benchmarks/patch.py`` measures which one each model gets
right; ``formats.preferred_format`` records the choice):

* ``search_replace`` — blocks of ``<<<<<<< SEARCH`` / ``=======`` / ``>>>>>>> REPLACE``
  under the file's path;
* ``function`` — the whole rewritten function (or class) in a code block under its path;
* ``udiff`` — a unified diff; hunks are applied by their content, not their line numbers
  (small models get those wrong).

Every parser turns the model's text into ``Edit`` records and is tolerant of the usual
small-model slips: fences around blocks, marker lengths, a missing path, hunks without
the leading space on context lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from greenpair.core.errors import PatchError

FORMATS = ("search_replace", "function", "udiff")

_SEARCH = re.compile(r"^\s*<{5,9}\s*SEARCH\b.*$")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9}\s*REPLACE\b.*$")
_FENCE = re.compile(r"^\s*```")
_PATHLIKE = re.compile(r"^(?:[\w.\-]+/)*(?:[\w.\-]*\w\.\w+|\.\w[\w.\-]*)$|^(?:[\w.\-]+/)+[\w.\-]+$")
_DEF = re.compile(
    r"^\s*(?:@\w.*\n\s*)*(?:export\s+)?(?:default\s+)?(?:async\s+)?"
    r"(?:def|class|function|fn|func)\s+\*?\s*(?P<name>[A-Za-z_]\w*)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Edit:
    """One change to one file.

    ``search`` is the text to replace (empty: create the file). For ``function`` edits
    ``search`` is empty and ``symbol`` names the definition that ``replace`` rewrites.
    """

    path: str
    search: str
    replace: str
    kind: str = "search_replace"
    symbol: str | None = None


def _path_from(line: str) -> str | None:
    text = line.strip().strip("`*:#").strip()
    for lead in ("File:", "file:", "Path:", "path:"):
        if text.startswith(lead):
            text = text[len(lead):].strip()
    text = text.strip("`*").strip()
    return text if _PATHLIKE.match(text) else None


def _block_text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def parse_search_replace(text: str, default_path: str | None = None) -> list[Edit]:
    """Parse SEARCH/REPLACE blocks.

    Raises:
        PatchError: No complete block, or a block without a path and no default.
    """
    lines = text.splitlines()
    edits: list[Edit] = []
    path = default_path
    i = 0
    while i < len(lines):
        line = lines[i]
        if not _SEARCH.match(line):
            found = _path_from(line)
            if found:
                path = found
            i += 1
            continue
        search: list[str] = []
        replace: list[str] = []
        i += 1
        while i < len(lines) and not _DIVIDER.match(lines[i]):
            if _REPLACE.match(lines[i]) or _SEARCH.match(lines[i]):
                raise PatchError("A SEARCH/REPLACE block has no ======= line between the "
                                 "current code and the new code.")
            search.append(lines[i])
            i += 1
        i += 1
        while i < len(lines) and not _REPLACE.match(lines[i]):
            replace.append(lines[i])
            i += 1
        if i >= len(lines):
            raise PatchError("A SEARCH/REPLACE block is not closed with >>>>>>> REPLACE.")
        if path is None:
            raise PatchError("A SEARCH/REPLACE block does not say which file it changes.")
        edits.append(Edit(path, _block_text(search), _block_text(replace)))
        i += 1
    if not edits:
        raise PatchError("The reply holds no SEARCH/REPLACE block.")
    return edits


def _code_blocks(text: str) -> list[tuple[str | None, str]]:
    """(path written before it, code) for each fenced block; the whole text if none."""
    lines = text.splitlines()
    blocks: list[tuple[str | None, str]] = []
    path: str | None = None
    i = 0
    while i < len(lines):
        if _FENCE.match(lines[i]):
            body: list[str] = []
            i += 1
            while i < len(lines) and not _FENCE.match(lines[i]):
                body.append(lines[i])
                i += 1
            blocks.append((path, _block_text(body)))
            path = None
        else:
            path = _path_from(lines[i]) or path
        i += 1
    if not blocks and _DEF.search(text):
        blocks.append((None, text.strip("\n") + "\n"))
    return blocks


def definition_name(code: str) -> str | None:
    """The name of the first function or class defined in ``code``."""
    m = _DEF.search(code)
    return m.group("name") if m else None


def parse_functions(text: str, default_path: str | None = None) -> list[Edit]:
    """Parse whole-definition rewrites (one code block per definition).

    Raises:
        PatchError: No code block that defines a function or class.
    """
    edits: list[Edit] = []
    for path, code in _code_blocks(text):
        name = definition_name(code)
        target = path or default_path
        if name is None or target is None:
            continue
        edits.append(Edit(target, "", code, kind="function", symbol=name))
    if not edits:
        raise PatchError("The reply holds no code block with a whole function or class.")
    return edits


_HUNK = re.compile(r"^@@.*@@")


def parse_udiff(text: str, default_path: str | None = None) -> list[Edit]:
    """Parse a unified diff into content-matched edits (line numbers are ignored).

    Raises:
        PatchError: No hunk found, or a hunk without a file.
    """
    edits: list[Edit] = []
    path = default_path
    old: list[str] | None = None
    new: list[str] = []
    creating = False

    def flush() -> None:
        if old is not None and (old or new) and path is not None:
            edits.append(Edit(path, "" if creating else _block_text(old), _block_text(new),
                              kind="udiff"))

    for line in text.splitlines():
        if _FENCE.match(line) or line.startswith(("diff ", "index ")):
            continue
        if line.startswith("--- "):
            flush()
            old, new = None, []
            creating = line[4:].strip().startswith("/dev/null")
            continue
        if line.startswith("+++ "):
            path = _path_from(line[4:].split("\t")[0].removeprefix("b/")) or path
            continue
        if _HUNK.match(line):
            flush()
            old, new = [], []
            continue
        if old is None:
            continue
        if line.startswith("-"):
            old.append(line[1:])
        elif line.startswith("+"):
            new.append(line[1:])
        elif line.startswith("\\"):
            continue  # "\ No newline at end of file"
        else:  # context; small models often drop the leading space
            body = line[1:] if line.startswith(" ") else line
            old.append(body)
            new.append(body)
    flush()
    if not edits:
        raise PatchError("The reply holds no unified-diff hunk (@@ ... @@).")
    return edits


def parse_edits(fmt: str, text: str, default_path: str | None = None) -> list[Edit]:
    """Parse ``text`` written in edit format ``fmt``.

    Raises:
        PatchError: The reply is not well-formed in that format.
    """
    if fmt == "search_replace":
        return parse_search_replace(text, default_path)
    if fmt == "function":
        return parse_functions(text, default_path)
    if fmt == "udiff":
        return parse_udiff(text, default_path)
    raise PatchError(f"Unknown edit format {fmt!r}.", hint="Use one of: " + ", ".join(FORMATS))
