"""Where a failing test's failure ran: the definitions of the repository that the test
executed, ranked by how well they match the request.

A request that names a failing test gets that test run before drafting (the test-first
workflow); the run is traced (``trace_plugin``) and gives the functions the failing tests
executed. Retrieval alone picks code by the request's words, and on a test of a large
project those often match the test machinery instead of the code under test. The code the
failure ran through is a far smaller set (tens to hundreds of definitions instead of
thousands) that holds the code to change whenever the test reaches it.

Each executed function is mapped to its enclosing definition (a module function or a
method; nested functions, lambdas and comprehensions count for the definition around
them). A run that is not traced (Node's runner, jest, a user's command) gives the frames
of the failure's traceback or stack instead, and JavaScript and TypeScript definitions
(functions, methods, arrow functions assigned to a name) are read the same way, as are
Rust functions (a panic's location; ``#[test]`` functions and ``#[cfg(test)]`` modules are
tests, not suspects) and Go functions and methods (a panic's goroutine stack). Test files
and files that are not source are left out. The definitions are ranked: those the
failure's traceback went through first (``first``: its frames in the repository's source,
deepest first), then by BM25 of the request and the failure (the same identifier-aware
tokens as the index) over their source and path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenpair.core.assistant.check.discovery import is_test_file
from greenpair.core.index.categories import SOURCE, category
from greenpair.core.index.lexical import CHUNK_B, K1, bm25_idf, file_document
from greenpair.core.index.tokens import tokenize
from greenpair.core.repo.languages import detect_language

MAX_FILE_BYTES = 1_000_000  # a larger file is generated or vendored: not read
# The definitions of each language a failure can be placed in (methods included).
_FUNCTION_NODES = {
    "python": frozenset({"function_definition"}),
    **dict.fromkeys(("javascript", "typescript", "tsx"), frozenset({
        "function_declaration", "generator_function_declaration", "method_definition",
        "function_expression", "arrow_function", "function"})),
    "rust": frozenset({"function_item"}),
    "go": frozenset({"function_declaration", "method_declaration"}),
}


@dataclass(frozen=True)
class Suspect:
    """A definition the failing tests executed (1-based inclusive lines)."""

    path: str
    start_line: int
    end_line: int
    name: str
    score: float = 0.0


def _name(node: Any) -> Any:
    """A definition's name node: its own, or the variable or property it is assigned to
    (``const f = () => {}``, ``f: function () {}``); None when anonymous."""
    ident = node.child_by_field_name("name")
    if ident is None and node.parent is not None and node.parent.type in {
            "variable_declarator", "pair", "assignment_expression", "public_field_definition",
            "field_definition"}:
        parent = node.parent
        ident = parent.child_by_field_name("name") or parent.child_by_field_name("key") \
            or parent.child_by_field_name("left") or parent.child_by_field_name("property")
    return ident


def _rust_test_item(node: Any) -> bool:
    """Whether ``node`` is a Rust item under ``#[test]`` or ``#[cfg(test)]``."""
    prev = node.prev_named_sibling
    while prev is not None and prev.type == "attribute_item":
        text = prev.text or b""
        if text.startswith(b"#[test") or b"cfg(test)" in text:
            return True
        prev = prev.prev_named_sibling
    return False


def _definitions(text: str, language: str = "python") -> list[tuple[int, int, str]]:
    """(start, end, name) of a file's named functions and methods that are not inside
    another one (1-based, Python decorators included), from tree-sitter."""
    from greenpair.core.repo.languages import parse

    kinds = _FUNCTION_NODES.get(language)
    tree = parse(language, text) if kinds else None
    if tree is None or kinds is None:
        return []
    out: list[tuple[int, int, str]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if language == "rust" and _rust_test_item(node):
            continue  # a #[test] fn or a #[cfg(test)] mod: the tests, not the code
        if node.type in kinds:
            ident = _name(node)
            if ident is not None and ident.text is not None:
                top = node.parent if node.parent is not None and \
                    node.parent.type == "decorated_definition" else node
                if node.parent is not None and node.parent.type in {
                        "variable_declarator", "pair", "public_field_definition",
                        "field_definition"}:
                    top = node.parent.parent if node.parent.type == "variable_declarator" \
                        and node.parent.parent is not None else node.parent
                out.append((top.start_point[0] + 1, top.end_point[0] + 1,
                            ident.text.decode("utf-8", "replace").split(".")[-1]))
                continue  # what a function defines inside counts as the function
        stack.extend(node.children)
    return sorted(out)


def _enclosing(defs: Sequence[tuple[int, int, str]], line: int) -> tuple[int, int, str] | None:
    inside = [d for d in defs if d[0] <= line <= d[1]]
    return min(inside, key=lambda d: d[1] - d[0]) if inside else None


def executed_definitions(root: Path, executed: Iterable[tuple[str, int, str]],
                         skip: Iterable[str] = ()) -> list[tuple[Suspect, str]]:
    """The source definitions that hold the executed functions, each with its text, in
    the order first executed. ``skip``: paths left out (the named tests)."""
    by_path: dict[str, list[int]] = {}
    left_out = set(skip)
    for path, line, _name in executed:
        if path in left_out or ".." in Path(path).parts or detect_language(path) not in \
                _FUNCTION_NODES:
            continue
        if is_test_file(path) or category(path) != SOURCE:
            continue
        by_path.setdefault(path, []).append(int(line))
    out: dict[tuple[str, int], tuple[Suspect, str]] = {}
    for path, lines in by_path.items():
        file = root / path
        try:
            if not file.is_file() or file.stat().st_size > MAX_FILE_BYTES:
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        defs = _definitions(text, detect_language(path) or "python")
        rows = text.splitlines()
        for line in lines:
            found = _enclosing(defs, line)
            if found is None or (path, found[0]) in out:
                continue
            start, end, name = found
            out[(path, start)] = (Suspect(path, start, end, name),
                                  "\n".join(rows[start - 1:end]))
    return list(out.values())


def rank_suspects(root: Path, executed: Iterable[tuple[str, int, str]], query: str, *,
                  first: Sequence[tuple[str, int]] = (), skip: Iterable[str] = (),
                  limit: int = 3) -> list[Suspect]:
    """The executed definitions most likely to need the change, best first.

    Args:
        root: The repository.
        executed: (path, first line, name) of the functions the failing tests ran.
        query: The request and the failure (test source and output).
        first: (path, line) of the failure's traceback frames, deepest first: the
            definitions that hold them are ranked first, in that order.
        skip: Paths left out (the named tests).
        limit: How many to return.
    """
    defs = executed_definitions(root, executed, skip)
    if not defs:
        return []
    docs = [file_document(s.path, text) for s, text in defs]  # the index's own term bags
    n = len(docs)
    avg = sum(sum(d.values()) for d in docs) / n or 1.0
    df: Counter[str] = Counter(t for d in docs for t in d)
    terms = set(tokenize(query))

    def bm25(doc: Counter[str]) -> float:
        length = sum(doc.values())
        score = 0.0
        for term in terms & doc.keys():
            tf = doc[term]
            score += float(bm25_idf(n, df[term])) * tf * (K1 + 1) / (
                tf + K1 * (1 - CHUNK_B + CHUNK_B * length / avg))
        return score

    def frame_rank(s: Suspect) -> int:
        return next((i for i, (path, line) in enumerate(first)
                     if path == s.path and s.start_line <= line <= s.end_line), len(first))

    scored = [(frame_rank(s), -bm25(doc), i, s)
              for i, ((s, _text), doc) in enumerate(zip(defs, docs, strict=True))]
    scored.sort(key=lambda row: row[:3])
    return [Suspect(s.path, s.start_line, s.end_line, s.name, round(-neg, 3))
            for _first, neg, _i, s in scored[:limit]]
