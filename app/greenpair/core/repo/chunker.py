"""Cut a source file into chunks that follow its definitions.

With a tree-sitter grammar, every line of the file lands in exactly one chunk:

* each function, method, class, interface, struct, enum, impl, trait or namespace is a
  chunk, with its decorators and the comments right above it;
* a container (class, impl…) keeps its header, fields and short members in its own chunk,
  while its methods are chunks of their own (``parent`` = the container), so no body is
  stored twice;
* definitions of one or two lines, imports, constants and other top-level code form
  ``module`` chunks; blank lines and closing braces join the chunk before them;
* anything longer than ``max_lines`` is cut at statement boundaries; every piece after
  the first starts with a comment line naming the definition and its signature, while its
  line numbers stay the real ones.

Files without a grammar fall back to document sections (Markdown, reStructuredText,
TOML/INI, YAML) or line windows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from greenpair.core.repo import chunk_rules
from greenpair.core.repo.chunk_rules import RULES, LanguageRules
from greenpair.core.repo.languages import parse
from greenpair.core.repo.textchunks import (
    context_header,
    make_chunk,
    section_chunks,
    split_rows,
)

if TYPE_CHECKING:
    from tree_sitter import Node

    from greenpair.core.types import Chunk

TINY_LINES = 1  # definitions this short (one-liners) join the code around them
SMALL_FILLER_LINES = 2
_SIGNATURE_ROWS = 12  # long parameter lists span many lines
_SIGNATURE_CHARS = 200
_TIGHT_OPEN = re.compile(r"([(\[<])\s+")  # ``f( a,`` from a wrapped signature -> ``f(a,``
_TIGHT_CLOSE = re.compile(r",?\s+([)\]>])")
_CLOSERS = frozenset({"", "}", "};", "})", "});", ")", "]", "end", "fi", "esac", "done", "?>"})


@dataclass
class _Def:
    start: int  # 0-based rows, inclusive
    end: int
    node: Node
    kind: str
    name: str | None
    parent: str | None
    signature: str
    members: list[_Def] = field(default_factory=list)


@dataclass
class _Span:
    start: int
    end: int
    kind: str
    symbol: str | None
    parent: str | None
    signature: str | None
    node: Node  # whose children give good places to cut
    owner: object = None  # the container of a filler (None: definition)
    filler: bool = False
    header: bool = False


def _last_row(node: Node) -> int:
    row = node.end_point.row
    return row - 1 if node.end_point.column == 0 and row > node.start_point.row else row


def _rows(node: Node) -> int:
    return _last_row(node) - node.start_point.row + 1


class _FileChunker:
    def __init__(self, path: str, language: str, lines: list[str], rules: LanguageRules):
        self.path = path
        self.language = language
        self.lines = lines
        self.rules = rules

    # -- finding definitions -------------------------------------------------------
    def scan(self, node: Node, scope: _Def | None) -> list[_Def]:
        found: list[_Def] = []
        for child in node.named_children:
            kind = self.rules.defs.get(child.type)
            if kind is not None and chunk_rules.is_definition(child, self.language):
                found.append(self.definition(child, kind, scope))
            elif child.type in self.rules.wrappers or child.type in self.rules.transparent:
                inner = self.scan(child, scope)
                if child.type in self.rules.wrappers and len(inner) == 1:
                    inner[0].start = min(inner[0].start, child.start_point.row)
                    inner[0].end = max(inner[0].end, _last_row(child))
                found.extend(inner)
        return found

    def definition(self, node: Node, kind: str, scope: _Def | None) -> _Def:
        kind = chunk_rules.definition_kind(node, kind, self.language)
        name, owner = chunk_rules.definition_name(node, self.language)
        if kind in chunk_rules.FUNCTION_KINDS and (
            owner is not None or (scope is not None and scope.kind != "module")
        ):
            kind = "method"
        parent = owner or (scope.name if scope is not None else None)
        found = _Def(
            start=node.start_point.row,
            end=_last_row(node),
            node=node,
            kind=kind,
            name=name,
            parent=parent,
            signature=self.signature(node, name),
        )
        if kind in chunk_rules.CONTAINER_KINDS:
            body = chunk_rules.body_of(node)
            if body is not None:
                found.members = self.scan(body, found)
        return found

    def signature(self, node: Node, name: str | None) -> str:
        first = node.start_point.row
        if name and node.type != "type_definition":  # skip annotation lines above the line that names the definition
            for row in range(first, min(first + _SIGNATURE_ROWS, _last_row(node) + 1)):
                if name in self.lines[row]:
                    first = row
                    break
        body = chunk_rules.body_of(node)
        parts: list[str] = []
        if body is not None and first <= body.start_point.row < first + _SIGNATURE_ROWS:
            for row in range(first, body.start_point.row + 1):
                line = self.lines[row]
                if row == body.start_point.row:
                    line = line.encode()[: body.start_point.column].decode("utf-8", "replace")
                parts.append(line.strip())
        else:
            parts.append(self.lines[first].strip())
        prefixes = self.rules.comment_prefixes
        text = " ".join(p for p in parts if p and not p.startswith(prefixes)).rstrip("{ ")
        text = _TIGHT_OPEN.sub(r"\1", _TIGHT_CLOSE.sub(r"\1", text))
        if node.type == "type_definition" and name and name not in text:
            text = f"{text} … {name}"
        return text[:_SIGNATURE_CHARS]

    # -- laying definitions over the lines ---------------------------------------
    def is_comment(self, row: int) -> bool:
        return self.lines[row].lstrip().startswith(self.rules.comment_prefixes)

    def filler(self, start: int, end: int, scope: _Def | None, root: Node) -> _Span:
        if scope is None:
            return _Span(start, end, "module", None, None, None, root, owner=self, filler=True)
        return _Span(
            start, end, scope.kind, scope.name, scope.parent, scope.signature,
            chunk_rules.body_of(scope.node) or scope.node, owner=scope, filler=True,
            header=start == scope.start,
        )

    def lay(self, start: int, end: int, defs: list[_Def], scope: _Def | None,
            root: Node) -> list[_Span]:
        spans: list[_Span] = []
        cursor = start
        for item in sorted(defs, key=lambda d: d.start):
            if item.end < cursor or item.start > end:
                continue
            first = max(item.start, cursor)
            while first > cursor and self.is_comment(first - 1):
                first -= 1  # doc comments and attributes belong to the definition
            if first > cursor:
                spans.append(self.filler(cursor, first - 1, scope, root))
            last = min(item.end, end)
            item.start = first
            if any(_rows(member.node) > TINY_LINES for member in item.members):
                spans.extend(self.lay(first, last, item.members, item, root))
            elif _rows(item.node) <= TINY_LINES:
                spans.append(self.filler(first, last, scope, root))
            else:
                spans.append(
                    _Span(first, last, item.kind, item.name, item.parent, item.signature,
                          item.node)
                )
            cursor = last + 1
        if cursor <= end:
            spans.append(self.filler(cursor, end, scope, root))
        return spans

    def is_trivial(self, span: _Span) -> bool:
        return all(self.lines[row].strip() in _CLOSERS for row in range(span.start, span.end + 1))

    def is_small(self, span: _Span) -> bool:
        """A short run of fields between members: it joins the member before it."""
        if not span.filler or span.header or span.owner is self:
            return False
        rows = range(span.start, span.end + 1)
        return sum(1 for row in rows if self.lines[row].strip()) < SMALL_FILLER_LINES

    def merge(self, spans: list[_Span]) -> list[_Span]:
        grouped: list[_Span] = []
        for span in spans:  # neighbouring fillers of one scope are one piece of code
            last = grouped[-1] if grouped else None
            if last is not None and span.filler and last.filler and span.owner is last.owner:
                last.end = span.end
            else:
                grouped.append(span)
        merged: list[_Span] = []
        for span in grouped:
            if merged:
                last = merged[-1]
                same = span.filler and last.filler and span.owner is last.owner
                if same or self.is_trivial(span) or self.is_small(span):
                    last.end = span.end
                    continue
            merged.append(span)
        if len(merged) > 1 and self.is_trivial(merged[0]):
            merged[1].start = merged[0].start  # leading blank lines join what follows
            del merged[0]
        return merged

    # -- cutting long spans ----------------------------------------------------------
    def priorities(self, span: _Span) -> dict[int, int]:
        ranks: dict[int, int] = {}
        target = span.node if span.filler else chunk_rules.body_of(span.node) or span.node
        pending = [(child, 0) for child in target.named_children]
        while pending:
            child, depth = pending.pop()
            row = child.start_point.row
            if span.start < row <= span.end:
                blank = not self.lines[row - 1].strip()
                ranks[row] = min(ranks.get(row, 99), 2 * depth + (0 if blank else 1))
            big = _last_row(child) - row >= 8
            if depth < 3 and big and row <= span.end and _last_row(child) >= span.start:
                pending.extend((grand, depth + 1) for grand in child.named_children)
        return ranks

    def chunks(self, span: _Span, max_lines: int) -> list[Chunk]:
        pieces = [(span.start, span.end)]
        if span.end - span.start + 1 > max_lines:
            ranks = self.priorities(span)
            lines = self.lines

            def priority(row: int) -> int:
                return ranks.get(row, 8 if not lines[row - 1].strip() else 9)

            pieces = split_rows(span.start, span.end, max_lines, priority)
        label = f"{span.parent}.{span.symbol}" if span.parent and span.symbol else span.symbol
        result = []
        for first, last in pieces:
            header = None
            if first != span.start and label:
                header = context_header(self.language, label, span.signature)
            result.append(
                make_chunk(self.path, self.language, self.lines, first, last,
                           kind=span.kind, symbol=span.symbol, parent=span.parent,
                           signature=span.signature or None, header=header)
            )
        return result


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line opens no new line
    return lines


def chunk_file(
    path: str, text: str, language: str | None, *, max_lines: int = 80
) -> list[Chunk]:
    """Cut one file into chunks.

    Args:
        path: Repository-relative path, recorded in each chunk.
        text: The file's text.
        language: Language id from :func:`~greenpair.core.repo.languages.detect_language`;
            languages without a grammar get Markdown sections or line windows.
        max_lines: Longest chunk, in lines; longer definitions are cut.

    Returns:
        Chunks in file order. With a grammar they cover every line exactly once; line
        windows of plain text may overlap by a few lines. Empty for blank files.
    """
    lines = _lines(text)
    if not any(line.strip() for line in lines):
        return []
    lang = language or "text"
    rules = RULES.get(lang)
    tree = parse(lang, text) if rules is not None else None
    if rules is None or tree is None:
        return section_chunks(path, lang, lines, max_lines)
    chunker = _FileChunker(path, lang, lines, rules)
    root = tree.root_node
    spans = chunker.lay(0, len(lines) - 1, chunker.scan(root, None), None, root)
    chunks: list[Chunk] = []
    for span in chunker.merge(spans):
        chunks.extend(chunker.chunks(span, max_lines))
    return chunks
