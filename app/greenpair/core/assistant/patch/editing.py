"""Apply parsed edits to file texts in memory (nothing is written here).

Each edit is matched against the file's current text (after the earlier edits of the same
reply): SEARCH text by ``matching.find_span``, a whole-function rewrite by locating the
definition of that name with tree-sitter (or indentation for Python without a grammar).
The result is one ``FileChange`` per touched file, with the original bytes kept so that
applying can check nothing changed in between and undo can restore them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from greenpair.core.assistant.patch.edits import Edit
from greenpair.core.assistant.patch.guard import check_editable, normalise_rel_path
from greenpair.core.assistant.patch.matching import (
    Match,
    find_span,
    fit_replacement,
    indent_width,
    reindent,
)
from greenpair.core.errors import PatchError

_DEF_NODES = {
    "function_definition", "class_definition", "function_declaration", "method_definition",
    "method_declaration", "class_declaration", "function_item", "impl_item", "method",
    "singleton_method", "class", "module", "constructor_declaration", "interface_declaration",
    "generator_function_declaration", "struct_item", "enum_item", "trait_item",
}


@dataclass
class FileChange:
    """The old and new content of one file (``before`` None: the file is created)."""

    path: str
    before: bytes | None
    after: bytes
    methods: list[str] = field(default_factory=list)  # how each edit matched
    encoding: str = "utf-8"  # of before and after (latin-1 files stay latin-1)


@dataclass
class _Working:
    path: str
    before: bytes | None
    text: str
    newline: str
    methods: list[str] = field(default_factory=list)
    encoding: str = "utf-8"  # or latin-1: written back in the file's own encoding


def definition_spans(language: str | None, text: str, name: str) -> list[tuple[int, int]]:
    """0-based [start, end) line spans of definitions called ``name``."""
    from greenpair.core.repo.languages import parse

    tree = parse(language, text) if language else None
    if tree is None:
        return _indent_spans(text, name) if language == "python" else []
    spans: list[tuple[int, int]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in _DEF_NODES:
            ident = node.child_by_field_name("name")
            if ident is not None and ident.text is not None and ident.text.decode() == name:
                top = node
                if node.parent is not None and node.parent.type == "decorated_definition":
                    top = node.parent
                spans.append((top.start_point[0], top.end_point[0] + 1))
        stack.extend(node.children)
    return sorted(spans)


def _indent_spans(text: str, name: str) -> list[tuple[int, int]]:
    lines = text.splitlines()
    spans = []
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith((f"def {name}(", f"async def {name}(", f"class {name}")):
            indent = len(line) - len(stripped)
            end = i + 1
            while end < len(lines) and (
                not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
            ):
                end += 1
            while end > i + 1 and not lines[end - 1].strip():
                end -= 1
            spans.append((i, end))
    return spans


def _apply_function(work: _Working, edit: Edit, hint: int | None) -> None:
    from greenpair.core.repo.languages import detect_language

    assert edit.symbol is not None
    spans = definition_spans(detect_language(work.path), work.text, edit.symbol)
    if not spans:
        raise PatchError(f"{work.path} has no function or class named {edit.symbol!r}.")
    start, end = min(spans, key=lambda s: abs(s[0] - hint)) if hint is not None else spans[0]
    lines = _lines(work)
    new = _aligned_decorators(edit.replace.splitlines())
    if work.path.endswith((".py", ".pyi")):
        new = _without_copied_tail(new, lines[end:end + FOLLOWING_LINES])
    parts = _partial_class(lines[start:end], new)
    if parts is not None:  # the model echoed the class around the method(s) it changed
        for name, code in parts:
            _apply_function(work, Edit(edit.path, "", code, "function", name), start)
        return
    old_def = def_line(lines[start:end])
    new_def = def_line(new)
    delta = (len(old_def) - len(old_def.lstrip())) - (len(new_def) - len(new_def.lstrip()))
    keep_decorators = is_decorator(lines[start]) and not (new and is_decorator(new[0]))
    if keep_decorators:
        while start < end and is_decorator(lines[start]):
            start += 1
    _splice(work, start, end, reindent(new, delta), "function")


FOLLOWING_LINES = 60  # file lines after a definition that a run-on reply may have copied
_TRAILING_COMMENT = re.compile(r"\s+#.*$")


def _aligned_decorators(new: list[str]) -> list[str]:
    """Decorator lines before the definition's first line, at its indentation.

    The small model sometimes indents the decorator a level deeper than the ``def`` it
    writes under it (``        @classmethod`` over ``    def f(``); a decorator always
    stands at its definition's level, so nothing is guessed.
    """
    head = _def_index(new)
    if head is None:
        return new
    indent = new[head][: indent_width(new[head])]
    return [indent + ln.lstrip() if i < head and is_decorator(ln) else ln
            for i, ln in enumerate(new)]


def _without_copied_tail(new: list[str], following: list[str]) -> list[str]:
    """A Python definition without the lines after its end that copy the file's next lines.

    A reply sometimes goes on past the definition it rewrites into the code that follows
    it in the file (the next function, cut off inside its docstring), which breaks the
    syntax. After the body ends (the first line back at the definition's level, once the
    signature's ``:`` is written), the rest is dropped only when its first two lines with
    text are consecutive lines of the file after the definition (the second may be cut
    off): a new function the model adds on purpose is kept.
    """
    head = _def_index(new)
    if head is None:
        return new
    level = indent_width(new[head])
    body = next((i for i in range(head, len(new))
                 if _TRAILING_COMMENT.sub("", new[i]).rstrip().endswith(":")), None)
    if body is None:
        return new
    tail = next((i for i in range(body + 1, len(new))
                 if new[i].strip() and indent_width(new[i]) <= level), None)
    if tail is None:
        return new
    written = [ln.strip() for ln in new[tail:] if ln.strip()][:2]
    there = [ln.strip() for ln in following if ln.strip()]
    if not any(_copies(written, there[i:i + len(written)]) for i in range(len(there))):
        return new
    while tail > 0 and not new[tail - 1].strip():
        tail -= 1
    return new[:tail]


def _copies(written: list[str], there: list[str]) -> bool:
    """Whether ``written`` are the lines ``there``, the last perhaps cut off."""
    return len(there) == len(written) and all(
        w == t or (k == len(written) - 1 and t.startswith(w))
        for k, (w, t) in enumerate(zip(written, there, strict=True)))


METHOD_LINE = re.compile(r"^(\s+)(?:async\s+)?def\s+(\w+)")


def _methods(lines: list[str]) -> dict[str, str]:
    """Methods at the first body level of a Python class: name -> code (with decorators)."""
    found = [(i, m) for i, ln in enumerate(lines) if (m := METHOD_LINE.match(ln))]
    if not found:
        return {}
    level = min(len(m.group(1)) for _, m in found)
    out: dict[str, str] = {}
    for i, m in found:
        if len(m.group(1)) != level:
            continue
        start = i
        while start > 0 and is_decorator(lines[start - 1]):
            start -= 1
        end = i + 1
        while end < len(lines) and (not lines[end].strip() or
                                    len(lines[end]) - len(lines[end].lstrip()) > level):
            end += 1
        out[m.group(2)] = "\n".join(lines[start:end]).rstrip() + "\n"
    return out


def _partial_class(old: list[str], new: list[str]) -> list[tuple[str, str]] | None:
    """The methods to rewrite one by one when ``new`` is a class that leaves methods out.

    Returns None when ``new`` is a whole definition to put in place as it is.
    """
    head = def_line(new).lstrip()
    if not head.startswith("class "):
        return None
    old_methods, new_methods = _methods(old), _methods(new)
    if not new_methods or set(old_methods) <= set(new_methods):
        return None  # a whole-class rewrite
    unknown = set(new_methods) - set(old_methods)
    if unknown:
        raise PatchError(
            "The rewritten class leaves out existing methods and adds "
            + ", ".join(sorted(unknown)) + "; rewrite the whole class or only the changed method."
        )
    return [(name, code) for name, code in new_methods.items() if code.strip() !=
            old_methods[name].strip()]


def is_decorator(line: str) -> bool:
    """Whether ``line`` is a Python decorator line."""
    return line.lstrip().startswith("@")


_DEF_START = re.compile(r"^\s*(?:async\s+def|def|class)\b")


def _def_index(lines: list[str]) -> int | None:
    """Where a definition's own first line is: a Python ``def``/``class`` line (past a
    decorator's arguments on lines of their own), else the first line that is not blank
    nor a decorator."""
    found = next((i for i, ln in enumerate(lines) if _DEF_START.match(ln)), None)
    if found is None:
        found = next((i for i, ln in enumerate(lines) if ln.strip() and not is_decorator(ln)),
                     None)
    return found


def def_line(lines: list[str]) -> str:
    """The first line of a definition (see ``_def_index``); "" when there is none."""
    found = _def_index(lines)
    return "" if found is None else lines[found]


def _apply_search(work: _Working, edit: Edit, hint: int | None) -> None:
    if not edit.search.strip():
        if work.before is not None and work.text.strip():
            raise PatchError(f"An edit of {work.path} has an empty SEARCH part.")
        work.text = edit.replace
        work.methods.append("create")
        return
    lines = _lines(work)
    match: Match | None = find_span(lines, edit.search.splitlines(), hint=hint)
    if match is None:
        raise PatchError(
            f"The code to replace was not found in {work.path}:\n{edit.search.rstrip()}"
        )
    replace = edit.replace.splitlines()
    if match.method != "exact":
        replace = fit_replacement(lines[match.start:match.end], edit.search.splitlines(),
                                  replace, match.indent_delta)
    _splice(work, match.start, match.end, replace, match.method)


def _found_again(work: _Working, edit: Edit) -> bool:
    """Whether a block identical to one already applied still finds its code exactly:
    another occurrence to change. Otherwise the first one replaced it, and a fuzzy match
    would find something else. (A repeated function rewrite changes nothing more, and a
    block that keeps its code and adds lines around it would find its own output.)"""
    if edit.kind == "function" or not edit.search.strip() or _keeps_its_code(edit):
        return False
    match = find_span(_lines(work), edit.search.splitlines())
    return match is not None and match.method == "exact"


def _keeps_its_code(edit: Edit) -> bool:
    """Whether the REPLACE holds the SEARCH's lines unchanged (it adds lines around them).

    Whole lines, not text: ``x = 1`` → ``x = 10`` does not keep ``x = 1``."""
    match = find_span(edit.replace.splitlines(), edit.search.splitlines())
    return match is not None and match.method == "exact"


def _lines(work: _Working) -> list[str]:
    """The file's lines without line ends (only the file's own newline splits lines)."""
    if not work.text:
        return []
    lines = work.text.split(work.newline)
    return lines[:-1] if lines[-1] == "" else lines


def _splice(work: _Working, start: int, end: int, new: list[str], method: str) -> None:
    lines = _lines(work)
    final_newline = work.text.endswith(work.newline) or not work.text
    out = lines[:start] + new + lines[end:]
    work.text = work.newline.join(out) + (work.newline if final_newline and out else "")
    work.methods.append(method)


def _load(repo: Path, rel: str) -> _Working:
    target = check_editable(repo, rel)
    if not target.exists():
        return _Working(rel, None, "", "\n")
    data = target.read_bytes()
    try:
        text, encoding = data.decode("utf-8"), "utf-8"  # a BOM stays in the text
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"  # the guard let only that in
    newline = "\r\n" if "\r\n" in text else "\n"
    return _Working(rel, data, text, newline, encoding=encoding)


_BLANK_INDENT = re.compile(r"(?m)^[ \t]+(?=\r?$)")


def _without_blank_indents(work: _Working) -> str:
    """The new text with whitespace-only lines made empty, when the file had none (a new
    file is kept as written): the small model writes a docstring's or a body's blank lines
    indented, which shows in the diff as a change to every such line (and lints as
    trailing whitespace)."""
    if work.before is None or _BLANK_INDENT.search(work.before.decode(work.encoding, "replace")):
        return work.text
    return _BLANK_INDENT.sub("", work.text)


def apply_edits(repo: Path, edits: Sequence[Edit],
                hints: dict[str, int] | None = None) -> list[FileChange]:
    """Apply ``edits`` to the repository's files in memory.

    Args:
        repo: The repository root.
        edits: Parsed edits, in order.
        hints: Per path, a 0-based line near the code shown to the model.

    Returns:
        One change per file whose text changed.

    Raises:
        PatchError: A path is refused (outside, secret, binary) or an edit does not match.
    """
    files: dict[str, _Working] = {}
    seen: set[tuple[str, str, str | None, str, str]] = set()
    for edit in edits:
        rel = normalise_rel_path(edit.path)
        work = files.get(rel) or files.setdefault(rel, _load(repo, rel))
        hint = (hints or {}).get(rel)
        key = (rel, edit.kind, edit.symbol, edit.search, edit.replace)
        if key in seen and not _found_again(work, edit):
            continue  # the same block written again (a model repeating itself): done once
        seen.add(key)
        if edit.kind == "function":
            if work.before is None:
                raise PatchError(f"{rel} does not exist, so {edit.symbol!r} cannot be rewritten.")
            _apply_function(work, edit, hint)
        else:
            _apply_search(work, edit, hint)
    changes = []
    for work in files.values():
        try:
            after = _without_blank_indents(work).encode(work.encoding)
        except UnicodeEncodeError as exc:
            raise PatchError(
                f"{work.path} is a {work.encoding} file and the new code has characters it "
                f"cannot hold ({exc.object[exc.start:exc.end]!r}).",
                hint="Ask for the change without those characters, or convert the file to "
                "UTF-8 first.",
            ) from exc
        if work.before is None or after != work.before:
            changes.append(FileChange(work.path, work.before, after, work.methods,
                                      work.encoding))
    if not changes:
        raise PatchError("The edit changes nothing: the new code equals the old.")
    return changes
