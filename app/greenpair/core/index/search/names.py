"""Name evidence: definitions, qualified names and paths that a request mentions.

* ``symbol``: definitions whose name the request mentions (code-like identifiers count
  fully, plain words half), a name defined in many files counting less for each;
* ``qualified``: definitions a qualified reference (``a.b``, ``A::b``, ``a->b``) names
  by owner and name: ``Config.getini`` is the method ``getini`` of a class ``Config``
  (also a Go receiver, a Rust ``impl``, a C++ ``Config::getini``), ``outcomes.skip`` a
  top-level ``skip`` of a module ``outcomes`` (a Go package is its folder);
* ``path``: file and folder names the request mentions, weighted by rarity;
* ``exports`` (see ``entry_files``): for a request about what a module exports, the
  entry files of modules (``__init__.py``, ``index.ts``, ``mod.rs``, ``lib.rs``), by
  their BM25 score.

The tables are built once per lexical snapshot and kept on it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from greenpair.core.index import tokens

if TYPE_CHECKING:
    from greenpair.core.index.lexical import LexicalModel

NAMED_MAX = 3  # a name only this many files define points at them
_PACKAGE_FILES = {"__init__", "mod", "index", "lib"}
_ENTRY_EXTENSIONS = {"py", "pyi", "ts", "tsx", "js", "jsx", "mjs", "cjs", "rs"}


@dataclass
class Names:
    """Symbol name → chunk positions, and path words → files."""

    by_name: dict[str, list[int]] = field(default_factory=dict)
    by_path_word: dict[str, set[int]] = field(default_factory=dict)
    # word parts of ``owner.name`` and of ``name`` → chunk positions
    by_parts: dict[tuple[str, ...], list[int]] = field(default_factory=dict)


def module_name(path: str, language: str) -> str:
    """The name code uses to qualify a top-level definition of ``path``: the file's stem
    (``outcomes.skip``), or its folder for a package file (``__init__.py``, ``mod.rs``,
    ``index.js``) and for Go, whose package is its folder (``cart.Total``)."""
    parts = path.split("/")
    stem = parts[-1].split(".", 1)[0]
    if (stem in _PACKAGE_FILES or language == "go") and len(parts) > 1:
        return parts[-2]
    return stem


def names(lex: LexicalModel) -> Names:
    """The name tables of a lexical snapshot (built on first use)."""
    cached = getattr(lex, "_greenpair_names", None)
    if isinstance(cached, Names):
        return cached
    table = Names()
    by_name: dict[str, list[int]] = defaultdict(list)
    qualified: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, meta in enumerate(lex.chunks):
        chunk = meta.chunk
        if not chunk.symbol:
            continue
        by_name[chunk.symbol.lower()].append(i)
        if chunk.kind == "section":  # a heading, not a definition code can qualify
            continue
        own = tuple(tokens.split_identifier(chunk.symbol))
        owner = chunk.parent or module_name(chunk.path, chunk.language)
        for key in {own, tuple(tokens.split_identifier(owner)) + own}:
            if len(key) > 1:
                qualified[key].append(i)
    table.by_name = dict(by_name)
    table.by_parts = dict(qualified)
    words: dict[str, set[int]] = defaultdict(set)
    for f, path in enumerate(lex.paths):
        parts = path.lower().split("/")
        stem = parts[-1].rsplit(".", 1)[0]
        for word in {stem, *parts[:-1], *tokens.split_identifier(stem)}:
            word = word.strip("_")
            if len(word) > 2:
                words[tokens.stem(word)].add(f)
    table.by_path_word = dict(words)
    lex._greenpair_names = table  # type: ignore[attr-defined]
    return table


def entry_files(lex: LexicalModel) -> list[int]:
    """Entry files of modules and packages, where their exports are listed:
    ``__init__.py``, ``index.ts``/``index.js``, ``mod.rs``, ``lib.rs``."""
    cached = getattr(lex, "_greenpair_entries", None)
    if isinstance(cached, list):
        return cached
    out = []
    for f, path in enumerate(lex.paths):
        name = path.rsplit("/", 1)[-1]
        stem, _, ext = name.partition(".")
        if stem in _PACKAGE_FILES and ext in _ENTRY_EXTENSIONS:
            out.append(f)
    lex._greenpair_entries = out  # type: ignore[attr-defined]
    return out


def request_words(query: str) -> tuple[set[str], set[str]]:
    """Code-like identifiers of a request, and its other words worth matching."""
    code_ids = set(tokens.identifiers(query))
    plain = {w for w in tokens.words(query) if len(w) > 3 and w not in tokens.STOPWORDS}
    return code_ids, plain - code_ids


def _credit(
    lex: LexicalModel, hits: list[int] | None, weight: float,
    files: dict[int, float], chunks: dict[int, float],
) -> None:
    """Credit the definitions ``hits`` (chunk positions) and their files; a name defined
    in many files says less about each."""
    if not hits:
        return
    owners = sorted({int(lex.chunk_file[p]) for p in hits})
    weight /= math.sqrt(len(owners))
    for p in hits:
        chunks[p] = chunks.get(p, 0.0) + weight
    for f in owners:
        files[f] = files.get(f, 0.0) + weight


def symbol_scores(lex: LexicalModel, query: str) -> tuple[dict[int, float], dict[int, float]]:
    """Files and chunks defining names the request mentions (file → score, chunk →
    score)."""
    table = names(lex)
    code_ids, plain = request_words(query)
    files: dict[int, float] = {}
    chunks: dict[int, float] = {}
    for name in sorted(code_ids | plain):  # sorted: same sums, same ties, every run
        _credit(lex, table.by_name.get(name), 1.0 if name in code_ids else 0.5, files, chunks)
    return files, chunks


def qualified_scores(
    lex: LexicalModel, query: str
) -> tuple[dict[int, float], dict[int, float]]:
    """Files and chunks defining a qualified name of the request (``Config.getini``)."""
    table = names(lex)
    files: dict[int, float] = {}
    chunks: dict[int, float] = {}
    for key in tokens.dotted_keys(query):
        _credit(lex, table.by_parts.get(key), 1.0, files, chunks)
    return files, chunks


def path_scores(lex: LexicalModel, query: str) -> dict[int, float]:
    """Files whose name or folders the request mentions, by the rarity of the word."""
    table = names(lex)
    code_ids, plain = request_words(query)
    out: dict[int, float] = defaultdict(float)
    n_files = len(lex.paths)
    for word in sorted({tokens.stem(w) for w in plain | code_ids}):
        matched = table.by_path_word.get(word)
        if matched and len(matched) < n_files / 2:
            idf = math.log(n_files / len(matched))
            for f in matched:
                out[f] += idf
    return dict(out)


def named_files(lex: LexicalModel, query: str) -> set[int]:
    """Files the request points at by name: it names their file (``test_cart.py``) or a
    code identifier that only they define (at most ``NAMED_MAX`` files). Such files are
    what the request is about, whatever their category."""
    table = names(lex)
    out: set[int] = set()
    for name in tokens.identifiers(query):
        hits = table.by_name.get(name)
        if hits:
            files = {int(lex.chunk_file[p]) for p in hits}
            if len(files) <= NAMED_MAX:
                out |= files
    mentioned = {m.lower() for m in re.findall(r"[\w.-]+\.[A-Za-z]{1,5}\b", query)}
    if mentioned:
        by_base: dict[str, list[int]] = defaultdict(list)
        for f, path in enumerate(lex.paths):
            base = path.rsplit("/", 1)[-1].lower()
            if base in mentioned or path.lower() in mentioned:
                by_base[base].append(f)
        for files_named in by_base.values():
            if len(files_named) <= NAMED_MAX:
                out.update(files_named)
    return out
