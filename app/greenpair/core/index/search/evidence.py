"""Gather every signal's evidence for one request, at file and chunk level.

Signals (each a small module or a function of the lexical model):

* ``file``: BM25 over whole files (path + content);
* ``chunk``: BM25 over chunks of code (definitions and module code; prose is left to
  the file signal);
* ``dense``: cosine of the request's embedding to chunk vectors (``dense``);
* ``phrase``: adjacent request words close together in candidate chunks (``phrases``);
* ``symbol``, ``qualified``, ``path``: names the request mentions (``names``);
* ``exports``: module entry files, for a request about exports (``names``);
* ``reexport``: the file defining a name an entry file re-exports (``reexports``);
* ``history``: files that past commits with a similar message changed (``history``).

The request is cleaned of references first (``query.clean_query``), and its first
sentence counts twice in the lexical signals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from greenpair.core.index import categories
from greenpair.core.index.search import names, phrases
from greenpair.core.index.search.chunks import TEXT_CACHE, file_texts, texts
from greenpair.core.index.search.dense import dense_scores
from greenpair.core.index.search.git_log import history_scores
from greenpair.core.index.search.query import about_exports, clean_query, headline
from greenpair.core.index.search.reexports import reexport_scores

if TYPE_CHECKING:
    from greenpair.core.index.lexical import LexicalModel
    from greenpair.core.index.search.reader import IndexReader

SIGNALS = (
    "file", "chunk", "dense", "phrase", "symbol", "qualified", "path", "exports", "reexport",
    "history",
)
DEPTH = 100  # files taken from the file ranking
CHUNK_DEPTH = 400  # chunks taken from the chunk rankings (lexical and dense)
PHRASE_DEPTH = 400  # candidate chunks read for phrase evidence
CONTENT_CHARS = 20_000  # characters of a prose file read to tell a changelog
PROSE = (".md", ".markdown", ".rst", ".txt", ".adoc", ".asciidoc", ".org", ".rdoc")


@dataclass
class Evidence:
    """What every signal found for one request.

    Attributes:
        files: Signal → file position (in ``lex.paths``) → raw score, for the signals
            scored per file (``file``, ``symbol``, ``qualified``, ``path``).
        chunks: Signal → chunk position → raw score, for the signals scored per chunk.
        named: Files the request names (their file name, or an identifier only they
            define).
        categories: Files whose category their content decides (a release history
            named like any other document), shared by every request of a snapshot.
    """

    query: str
    files: dict[str, dict[int, float]] = field(default_factory=dict)
    chunks: dict[str, dict[int, float]] = field(default_factory=dict)
    named: set[int] = field(default_factory=set)
    categories: dict[int, str] = field(default_factory=dict)


def top(scores: np.ndarray, depth: int) -> dict[int, float]:
    """The ``depth`` best positions of a score array with a positive score."""
    if scores.size == 0:
        return {}
    n = min(depth, scores.size)
    idx = np.argpartition(-scores, n - 1)[:n]
    return {int(i): float(scores[i]) for i in idx[np.argsort(-scores[idx])] if scores[i] > 0}


def best_first(scores: dict[int, float]) -> list[int]:
    """Keys by score, highest first; ties by key, so every run orders them the same."""
    return sorted(scores, key=lambda key: (-scores[key], key))


def _positions(
    index: IndexReader, lex: LexicalModel, picked: list[int]
) -> list[dict[str, tuple[int, ...]]]:
    """Word positions of chunks for phrase evidence, kept on the lexical snapshot (most
    candidates come back in the next requests)."""
    cache = lex.phrase_positions
    missing = [p for p in picked if lex.chunks[p].id not in cache]
    if len(cache) + len(missing) > TEXT_CACHE:
        cache.clear()
        missing = picked
    if missing:
        found = texts(index, lex, missing)
        for p in missing:
            cid = lex.chunks[p].id
            cache[cid] = phrases.positions(found.get(cid, ""))
    return [cache[lex.chunks[p].id] for p in picked]


def content_categories(index: IndexReader, lex: LexicalModel) -> dict[int, str]:
    """Prose files at the top of the repository or in a docs folder whose content makes
    them a changelog (``categories.category_of``), read once per snapshot."""
    cached = getattr(lex, "_greenpair_categories", None)
    if isinstance(cached, dict):
        return cached
    prose = []
    for f, path in enumerate(lex.paths):
        if categories.category(path) in (categories.DOCS, categories.OTHER):
            *folders, name = path.split("/")
            if len(folders) <= 2 and ("." not in name or name.lower().endswith(PROSE)):
                prose.append(f)
    out = {}
    for f, text in file_texts(index, lex, prose, CONTENT_CHARS).items():
        cat = categories.category_of(lex.paths[f], text)
        if cat != categories.category(lex.paths[f]):
            out[f] = cat
    lex._greenpair_categories = out  # type: ignore[attr-defined]
    return out


def gather(index: IndexReader, lex: LexicalModel, query: str, *, dense: bool = True) -> Evidence:
    """Every signal's evidence for ``query``."""
    full = clean_query(query)
    weighted = headline(full) + "\n" + full  # the first sentence counts twice
    ev = Evidence(query=query)
    file_scores = lex.file_scores(weighted)
    ev.files["file"] = top(file_scores, DEPTH)
    if about_exports(full):
        ev.files["exports"] = {f: float(file_scores[f]) for f in names.entry_files(lex)
                               if file_scores[f] > 0}
    chunk_scores = lex.chunk_scores(weighted)
    chunk_scores[lex.prose_chunks] = 0.0  # prose is the file signal's
    ev.chunks["chunk"] = top(chunk_scores, CHUNK_DEPTH)
    ev.chunks["dense"] = dense_scores(index, lex, weighted, CHUNK_DEPTH) if dense else {}
    candidates: dict[int, float] = defaultdict(float)
    for signal in ("chunk", "dense"):
        for r, pos in enumerate(best_first(ev.chunks[signal])):
            candidates[pos] += 1.0 / (20 + r)
    picked = best_first(candidates)[:PHRASE_DEPTH]
    ev.chunks["phrase"] = phrases.scores(
        weighted, ((p, where) for p, where in zip(picked, _positions(index, lex, picked),
                                                  strict=True)), lex.idf
    )
    ev.files["symbol"], ev.chunks["symbol"] = names.symbol_scores(lex, full)
    ev.files["qualified"], ev.chunks["qualified"] = names.qualified_scores(lex, full)
    ev.files["path"] = names.path_scores(lex, full)
    ev.files["reexport"] = reexport_scores(index, lex, full)
    ev.files["history"] = history_scores(index.git_log(), lex, full)
    ev.named = names.named_files(lex, query)
    ev.categories = content_categories(index, lex)
    return ev
