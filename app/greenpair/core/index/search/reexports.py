"""Re-export evidence: the file that defines a name a package entry file re-exports.

A request names a symbol as its users see it: ``pytest.skip``, ``import { map } from
'rxjs'``. That name is re-exported by an entry file (``src/pytest/__init__.py`` has
``from _pytest.outcomes import skip``; ``src/index.ts`` has ``export { map } from
'./internal/operators/map'`` or ``export * from './operators'``), and what the request is
about is the defining file. This signal reads the re-exports of every entry file once
per lexical snapshot:

* Python: ``from .x import a, b as c`` and ``from pkg.x import (a, b)``;
* TypeScript/JavaScript: ``export { a, b as c } from './x'`` and ``export * from './x'``;
* Rust: ``pub use crate::x::{a, b};`` and ``pub use self::x::*;``.

At query time a qualified name whose owner is an entry file's module (``pytest.skip``)
credits the file its re-export resolves to, and an identifier the request names that is
re-exported under another name (``export { a as b }``) credits the file defining it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from greenpair.core.index import tokens
from greenpair.core.index.search.chunks import file_texts
from greenpair.core.index.search.names import entry_files, module_name, names

if TYPE_CHECKING:
    from greenpair.core.index.lexical import LexicalModel
    from greenpair.core.index.search.reader import IndexReader

STAR = "*"
MAX_HOPS = 4  # ``export *`` chains followed at most this deep
MAX_TEXT = 200_000  # characters of an entry file read for its re-exports

_PY_FROM = re.compile(
    r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)", re.MULTILINE
)
_TS_NAMED = re.compile(r"\bexport\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['\"]([^'\"]+)['\"]")
_TS_STAR = re.compile(r"\bexport\s+\*\s+(?:as\s+(\w+)\s+)?from\s*['\"]([^'\"]+)['\"]")
_RS_USE = re.compile(r"\bpub(?:\([^)]*\))?\s+use\s+([\w:]+?)(?:::\{([^}]*)\}|::(\*|\w+))\s*;")
_TS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs")


@dataclass
class Reexports:
    """What entry files re-export.

    Attributes:
        by_entry: Entry file → exported name (lowercase) → (file it comes from, the
            name there); ``STAR`` → files whose exports are all re-exported.
        modules: Module name of an entry file (lowercase: ``pytest``, ``operators``)
            → its entry files.
        aliases: A name exported under another name → (defining file, original name).
    """

    by_entry: dict[int, dict[str, list[tuple[int, str]]]] = field(default_factory=dict)
    modules: dict[str, list[int]] = field(default_factory=dict)
    aliases: dict[str, list[tuple[int, str]]] = field(default_factory=dict)


def _split_names(text: str) -> list[tuple[str, str]]:
    """``a, b as c`` → ``[(a, a), (b, c)]`` (original, exported)."""
    out = []
    for part in text.strip("()").replace("\n", " ").split(","):
        words = part.split()
        if words and words[0] == "type":  # ``export { type A }``
            words = words[1:]
        if len(words) == 1 and words[0].isidentifier():
            out.append((words[0], words[0]))
        elif len(words) == 3 and words[1] == "as" and words[0].isidentifier():
            out.append((words[0], words[2]))
    return out


class _Resolver:
    """Module references → file positions."""

    def __init__(self, lex: LexicalModel) -> None:
        self.paths = lex.path_index
        self.by_suffix: dict[str, list[int]] = defaultdict(list)
        for f, path in enumerate(lex.paths):
            if path.endswith((".py", ".pyi")):
                parts = path.split("/")
                for i in range(len(parts)):
                    self.by_suffix["/".join(parts[i:])].append(f)

    def first(self, candidates: list[str]) -> int | None:
        for cand in candidates:
            if cand in self.paths:
                return self.paths[cand]
        return None

    def python(self, here: str, module: str) -> int | None:
        dots = len(module) - len(module.lstrip("."))
        rest = module[dots:].replace(".", "/")
        if dots:
            folder = here.split("/")[:-dots]
            base = "/".join([*folder, rest] if rest else folder)
            return self.first([f"{base}.py", f"{base}/__init__.py", f"{base}.pyi"])
        for cand in (f"{rest}.py", f"{rest}/__init__.py"):
            hits = self.by_suffix.get(cand, [])
            if len(hits) == 1:
                return hits[0]
        return None

    def script(self, here: str, spec: str) -> int | None:
        if not spec.startswith("."):
            return None
        parts = here.split("/")[:-1]
        for step in spec.split("/"):
            if step == "..":
                parts = parts[:-1]
            elif step not in (".", ""):
                parts.append(step)
        base = "/".join(parts)
        stem = re.sub(r"\.(js|mjs|cjs)$", "", base)
        return self.first(
            [base] + [stem + ext for ext in _TS_EXTENSIONS]
            + [f"{stem}/index{ext}" for ext in _TS_EXTENSIONS] + [f"{stem}.d.ts"]
        )

    def rust(self, here: str, path: str) -> int | None:
        steps = path.split("::")
        folder = here.split("/")[:-1]
        if steps[0] == "crate":
            while folder and folder[-1] != "src":
                folder = folder[:-1]
            steps = steps[1:]
        elif steps[0] == "self":
            steps = steps[1:]
        elif steps[0] == "super":
            folder, steps = folder[:-1], steps[1:]
        if not steps:
            return None
        base = "/".join([*folder, *steps])
        return self.first([f"{base}.rs", f"{base}/mod.rs"])


def table(index: IndexReader, lex: LexicalModel) -> Reexports:
    """The re-exports of a lexical snapshot's entry files (read on first use)."""
    cached = getattr(lex, "_greenpair_reexports", None)
    if isinstance(cached, Reexports):
        return cached
    out = Reexports()
    resolve = _Resolver(lex)
    modules: dict[str, list[int]] = defaultdict(list)
    aliases: dict[str, list[tuple[int, str]]] = defaultdict(list)
    entries = entry_files(lex)
    for f, text in sorted(file_texts(index, lex, entries, MAX_TEXT).items()):
        path = lex.paths[f]
        exported: dict[str, list[tuple[int, str]]] = defaultdict(list)
        found: list[tuple[int | None, list[tuple[str, str]]]] = []
        if path.endswith((".py", ".pyi")):
            for m in _PY_FROM.finditer(text):
                found.append((resolve.python(path, m.group(1)), _split_names(m.group(2))))
        elif path.endswith(".rs"):
            for m in _RS_USE.finditer(text):
                names_text = m.group(2) if m.group(2) is not None else m.group(3)
                if names_text == STAR:
                    found.append((resolve.rust(path, m.group(1)), [(STAR, STAR)]))
                else:
                    found.append((resolve.rust(path, m.group(1)), _split_names(names_text)))
        else:
            for m in _TS_NAMED.finditer(text):
                found.append((resolve.script(path, m.group(2)), _split_names(m.group(1))))
            for m in _TS_STAR.finditer(text):
                pairs = [(STAR, m.group(1))] if m.group(1) else [(STAR, STAR)]
                found.append((resolve.script(path, m.group(2)), pairs))
        for target, pairs in found:
            if target is None or target == f:
                continue
            for original, name in pairs:
                if original == STAR and name != STAR:  # ``export * as ns from``
                    exported[name.lower()].append((target, STAR))
                    continue
                exported[name.lower()].append((target, original))
                if name != original:
                    aliases[name.lower()].append((target, original))
        if exported:
            out.by_entry[f] = dict(exported)
            modules[module_name(path, "").lower()].append(f)
    out.modules = dict(modules)
    out.aliases = dict(aliases)
    lex._greenpair_reexports = out  # type: ignore[attr-defined]
    return out


def defining_files(lex: LexicalModel, rx: Reexports, entry: int, name: str) -> set[int]:
    """Files defining ``name`` as the entry file ``entry`` exports it (following
    re-export chains and ``export *`` up to ``MAX_HOPS``)."""
    defined = names(lex).by_name
    out: set[int] = set()
    todo = [(entry, name.lower(), 0)]
    seen: set[tuple[int, str]] = set()
    while todo:
        f, want, hops = todo.pop()
        if (f, want) in seen or hops > MAX_HOPS:
            continue
        seen.add((f, want))
        exports = rx.by_entry.get(f)
        if any(int(lex.chunk_file[p]) == f for p in defined.get(want, ())):
            out.add(f)  # defined here
            continue
        if exports is None:  # named by an import: the module it comes from
            if hops == 0:
                out.add(f)
            continue
        for target, original in exports.get(want, ()):
            if original == STAR:
                out.add(target)  # ``export * as ns``: the namespace's module
            elif target in rx.by_entry:
                todo.append((target, original.lower(), hops + 1))
            else:  # named explicitly: the module it is imported from
                out.add(target)
        for target, _ in exports.get(STAR, ()):
            todo.append((target, want, hops + 1))
    return out


_QUALIFIED = re.compile(r"\b([A-Za-z_]\w*)(?:\.|::)([A-Za-z_]\w*)")


def reexport_scores(index: IndexReader, lex: LexicalModel, query: str) -> dict[int, float]:
    """Files defining what the request names through a re-export: ``pkg.name`` where
    ``pkg`` is an entry file's module, and names exported under another name."""
    rx = table(index, lex)
    if not rx.by_entry:
        return {}
    out: dict[int, float] = defaultdict(float)
    for owner, attr in sorted(set(_QUALIFIED.findall(query))):
        hits: set[int] = set()
        for entry in rx.modules.get(owner.lower(), ()):
            hits |= defining_files(lex, rx, entry, attr)
        for f in hits:
            out[f] += 1.0 / math.sqrt(len(hits))
    for ident in sorted(set(tokens.identifiers(query))):
        hits = set()
        for target, original in rx.aliases.get(ident, ()):
            hits |= defining_files(lex, rx, target, original) or {target}
        for f in hits:
            out[f] += 1.0 / math.sqrt(len(hits))
    return dict(out)
