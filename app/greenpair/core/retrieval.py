"""Hybrid retrieval: lexical, dense, phrase, symbol, qualified-name and path evidence,
fused and ranked by intent.

Issue and PR references (``#123``) and URLs are taken out of the request first. Then seven
rankings of files are computed:

* ``file``: BM25 over whole files (path + content);
* ``chunk``: BM25 over chunks, a file scored by its best chunk;
* ``dense``: cosine of the request's embedding to chunk vectors, a file by its best chunk;
* ``phrase``: adjacent request words found close together, in order, in the candidate
  chunks the other signals found (see ``index.phrases``);
* ``symbol``: definitions whose name the request mentions (code-like identifiers count
  fully, plain words half), weighted by how rare the name is;
* ``qualified``: definitions a qualified reference in the request (``a.b``, ``A::b``,
  ``a->b``) names by owner and name: ``Config.getini`` is the method ``getini`` of a
  class ``Config`` (also a Go receiver, a Rust ``impl``, a C++ ``Config::getini``),
  ``outcomes.skip`` a top-level ``skip`` of a module ``outcomes`` (a Go package is its
  folder), and ``Config.inifile`` also matches a ``Config_inifile`` that code attaches
  to ``Config`` (names compared by their word parts, so case and ``_`` don't matter);
* ``path``: file and directory names the request mentions, weighted by rarity.

They are fused by weighted reciprocal rank fusion (Cormack et al., 2009), which needs no
score calibration, plus a weighted sum of max-normalised scores, which keeps margins (a
file far ahead, e.g. the only one with an exact match, stays ahead). Then intent: a
request to change or explain behaviour is about source files, so tests, docs, examples,
changelogs and config are scaled down unless the request mentions them ("add a test",
"the docs", "changelog", ...); when its first sentence is about tests, examples or the
changelog, those files come first and source files are scaled down a little instead.
Files the request names (their file name, or an identifier only they define) keep their
score whatever their category. Measured choices are in ``benchmarks/retrieval.py``'s
notes and the README.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from greenpair.core.index import categories, phrases, tokens
from greenpair.core.index.store import COMMITTED
from greenpair.core.types import Chunk, ScoredChunk, SearchResult

if TYPE_CHECKING:
    from greenpair.core.index.lexical import LexicalModel
    from greenpair.core.index.repo_index import RepoIndex

RRF_K = 20
NAMED_MAX = 3
DEPTH = 100  # files taken from each ranking
CHUNK_DEPTH = 400  # chunks taken from the chunk rankings (lexical and dense)
PHRASE_DEPTH = 400  # candidate chunks read for phrase evidence
TEXT_CACHE = 20_000  # chunk texts kept in memory between queries
WEIGHTS = {
    "file": 1.0, "chunk": 1.0, "dense": 1.0, "phrase": 1.0, "symbol": 0.2, "path": 0.2,
    "qualified": 1.0,
}
# Score factor of a category the request is not about (source files keep 1.0).
OFF_INTENT = {
    categories.TEST: 0.35,
    categories.DOCS: 0.35,
    categories.EXAMPLE: 0.35,
    categories.CHANGELOG: 0.2,
    categories.CONFIG: 0.5,
    categories.OTHER: 0.6,
}
# Score factor of source files when the request is about another category ("add tests").
SOURCE_WHEN_OTHER_INTENT = 0.6
_AFTER = r"(?=\s*(?:$|[.,;:!?)\]]|\s(?:for|of|to|that|which|in|on|and|so|with|when)\b))"
INTENT_PATTERNS = {
    categories.TEST: re.compile(
        r"(?i)\b(?:unit|integration|regression|e2e|end-to-end|failing|flaky|broken|missing)"
        r"[\s-]+tests?\b|\btests?[\s-]+(?:suite|file|case|coverage)s?\b|\btest_\w+"
        r"|\b(?:add|adds|added|adding|write|update|fix|extend|improve|more|new|the|a)"
        r"\s+(?:unit\s+|regression\s+)?tests?" + _AFTER + r"|\btesting/|\btests/"
    ),
    categories.DOCS: re.compile(
        r"(?i)\b(?:docs|documentation|readme|tutorial|how-?to|guide|manual)\b|\bdoc/"
    ),
    categories.EXAMPLE: re.compile(r"(?i)\b(?:examples?|samples?|demos?)\b"),
    categories.CHANGELOG: re.compile(
        r"(?i)\b(?:change\s*log|changelog|release\s+notes?|news\s+(?:entry|fragment))"
    ),
    categories.CONFIG: re.compile(
        r"(?i)\b(?:ci|workflows?|pyproject|setup\.cfg|tox\.ini|dockerfile|makefile|"
        r"package\.json|yaml|toml|pre-commit|dependenc(?:y|ies)|configuration\s+files?)\b"
    ),
}


def intents(query: str) -> set[str]:
    """The non-source categories a request mentions (their files are not scaled down)."""
    return {cat for cat, pattern in INTENT_PATTERNS.items() if pattern.search(query)}


_REFERENCES = re.compile(
    r"(?i)\bhttps?://\S+|\(\s*(?:gh-|#)\d+\s*\)|(?<![\w&])(?:gh-|#)\d+\b"
)


def clean_query(query: str) -> str:
    """The request without issue/PR references (``#123``, ``(#123)``, ``GH-123``) and
    URLs: numbers and hosts that say nothing about which code is meant."""
    return _REFERENCES.sub(" ", query)


def headline(query: str) -> str:
    """The first sentence of a request: where people state what they want."""
    first = query.strip().split("\n", 1)[0]
    return re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]


def primary_intents(query: str) -> set[str]:
    """Categories the request is *about* (named in its first sentence) and that live only
    in their own files: then those files come first. Docs are not among them (they also
    live in docstrings and comments of source files), nor config (a request naming a
    config file is often about the code that reads it)."""
    return intents(headline(query)) & {
        categories.TEST, categories.EXAMPLE, categories.CHANGELOG
    }


@dataclass
class _Symbols:
    """Symbol name → chunk positions, and path words → files (built once per model)."""

    by_name: dict[str, list[int]] = field(default_factory=dict)
    by_path_word: dict[str, set[int]] = field(default_factory=dict)
    # word parts of ``owner.name`` and of ``name`` → chunk positions (see ``qualified``)
    by_parts: dict[tuple[str, ...], list[int]] = field(default_factory=dict)


def _symbols(lex: LexicalModel) -> _Symbols:
    cached = getattr(lex, "_greenpair_symbols", None)
    if isinstance(cached, _Symbols):
        return cached
    table = _Symbols()
    names: dict[str, list[int]] = defaultdict(list)
    qualified: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, meta in enumerate(lex.chunks):
        chunk = meta.chunk
        if not chunk.symbol:
            continue
        names[chunk.symbol.lower()].append(i)
        if chunk.kind == "section":  # a heading, not a definition code can qualify
            continue
        own = tuple(tokens.split_identifier(chunk.symbol))
        owner = chunk.parent or _module_name(chunk.path, chunk.language)
        for key in {own, tuple(tokens.split_identifier(owner)) + own}:
            if len(key) > 1:
                qualified[key].append(i)
    table.by_name = dict(names)
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
    lex._greenpair_symbols = table  # type: ignore[attr-defined]
    return table


_PACKAGE_FILES = {"__init__", "mod", "index", "lib"}


def _module_name(path: str, language: str) -> str:
    """The name code uses to qualify a top-level definition of ``path``: the file's stem
    (``outcomes.skip``), or its folder for a package file (``__init__.py``, ``mod.rs``,
    ``index.js``) and for Go, whose package is its folder (``cart.Total``)."""
    parts = path.split("/")
    stem = parts[-1].split(".", 1)[0]
    if (stem in _PACKAGE_FILES or language == "go") and len(parts) > 1:
        return parts[-2]
    return stem


def _best_first(scores: dict[int, float]) -> list[int]:
    """Keys by score, highest first; ties by key, so every run orders them the same."""
    return sorted(scores, key=lambda key: (-scores[key], key))


def _rank(scores: dict[int, float]) -> list[int]:
    return [f for f in _best_first(scores) if scores[f] > 0][:DEPTH]


def _add_ranks(chunk_evidence: dict[int, float], ranked: Iterable[int]) -> None:
    """Reciprocal-rank credit of one chunk ranking (best first)."""
    for r, pos in enumerate(ranked):
        chunk_evidence[pos] += 1.0 / (RRF_K + r)


def _top(scores: np.ndarray, depth: int = DEPTH) -> list[int]:
    if scores.size == 0:
        return []
    n = min(depth, scores.size)
    idx = np.argpartition(-scores, n - 1)[:n]
    return [int(i) for i in idx[np.argsort(-scores[idx])] if scores[i] > 0]


def _dense(index: RepoIndex, lex: LexicalModel, query: str) -> dict[int, float]:
    """Best cosine per chunk position, for chunks of committed, current files."""
    db = index.store.db
    if db.execute("SELECT 1 FROM files WHERE state=? LIMIT 1", (COMMITTED,)).fetchone() is None:
        return {}
    if not db.execute("SELECT 1 FROM chunks WHERE embed_hash IS NOT NULL LIMIT 1").fetchone():
        return {}
    vector = index.embedder().embed([query])[0]
    hits = index.vectors().query(vector, CHUNK_DEPTH)
    paths = sorted({h[1] for h in hits})
    marks = ",".join("?" * len(paths))
    current = {
        p: sha
        for p, sha in db.execute(
            f"SELECT path, sha256 FROM files WHERE state=? AND path IN ({marks})",
            (COMMITTED, *paths),
        )
    }
    out: dict[int, float] = {}
    for cid, path, sha, cosine in hits:
        pos = lex.chunk_index.get(cid)
        if pos is not None and current.get(path) == sha:
            out[pos] = cosine
    return out


def _per_file(lex: LexicalModel, chunk_scores: dict[int, float], extra: int) -> dict[int, float]:
    """A file's score from its chunks: the best one, plus half of the next ``extra``
    (a file where several passages match is more likely the one meant)."""
    per: dict[int, list[float]] = defaultdict(list)
    for pos, score in chunk_scores.items():
        per[int(lex.chunk_file[pos])].append(score)
    out: dict[int, float] = {}
    for f, scores in per.items():
        scores.sort(reverse=True)
        out[f] = scores[0] + 0.5 * sum(scores[1 : 1 + extra])
    return out


def _top_dict(scores: dict[int, float]) -> dict[int, float]:
    return {f: scores[f] for f in _rank(scores)}


def named_files(lex: LexicalModel, query: str) -> set[int]:
    """Files the request points at by name: it names their file (``test_cart.py``) or a
    code identifier that only they define (at most ``NAMED_MAX`` files). Such files are
    what the request is about, whatever their category."""
    table = _symbols(lex)
    out: set[int] = set()
    for name in tokens.identifiers(query):
        hits = table.by_name.get(name)
        if hits:
            files = {int(lex.chunk_file[p]) for p in hits}
            if len(files) <= NAMED_MAX:
                out |= files
    mentioned = {m.lower() for m in re.findall(r"[\w.-]+\.[A-Za-z]{1,5}\b", query)}
    if mentioned:
        by_name: dict[str, list[int]] = defaultdict(list)
        for f, path in enumerate(lex.paths):
            base = path.rsplit("/", 1)[-1].lower()
            if base in mentioned or path.lower() in mentioned:
                by_name[base].append(f)
        for files_named in by_name.values():
            if len(files_named) <= NAMED_MAX:
                out.update(files_named)
    return out


def signals(
    index: RepoIndex, lex: LexicalModel, query: str
) -> tuple[dict[str, dict[int, float]], dict[int, float]]:
    """Each signal's top files (position in ``lex.paths`` → raw score), and the chunk
    evidence (chunk position → score) used to pick supporting chunks."""
    out: dict[str, dict[int, float]] = {}
    full = clean_query(query)
    query = headline(full) + "\n" + full  # the first sentence counts twice
    file_scores = lex.file_scores(query)
    out["file"] = {f: float(file_scores[f]) for f in _top(file_scores)}

    chunk_scores = lex.chunk_scores(query)
    chunk_evidence: dict[int, float] = defaultdict(float)  # chunk pos → fused chunk score
    top_chunks = {pos: float(chunk_scores[pos]) for pos in _top(chunk_scores, CHUNK_DEPTH)}
    _add_ranks(chunk_evidence, top_chunks)
    out["chunk"] = _top_dict(_per_file(lex, top_chunks, extra=2))

    dense = _dense(index, lex, query)
    _add_ranks(chunk_evidence, _best_first(dense))
    out["dense"] = _top_dict(_per_file(lex, dense, extra=1))

    candidates = _best_first(chunk_evidence)[:PHRASE_DEPTH]
    texts = _texts(index, lex, candidates)
    phrase = phrases.scores(
        query, ((p, texts.get(lex.chunks[p].id, "")) for p in candidates), lex.idf
    )
    _add_ranks(chunk_evidence, _best_first(phrase))
    out["phrase"] = _top_dict(_per_file(lex, phrase, extra=1))

    table = _symbols(lex)
    code_ids = set(tokens.identifiers(full))
    plain = {w for w in tokens.words(full) if len(w) > 3 and w not in tokens.STOPWORDS}
    sym_scores: dict[int, float] = defaultdict(float)
    for name in sorted(code_ids | plain):  # sorted: same sums, same ties, every run
        _add_definitions(
            lex, table.by_name.get(name), 1.0 if name in code_ids else 0.5,
            sym_scores, chunk_evidence,
        )
    out["symbol"] = _top_dict(sym_scores)
    qualified: dict[int, float] = defaultdict(float)
    for key in tokens.dotted_keys(full):
        _add_definitions(lex, table.by_parts.get(key), 1.0, qualified, chunk_evidence)
    out["qualified"] = _top_dict(qualified)

    path_scores: dict[int, float] = defaultdict(float)
    n_files = len(lex.paths)
    for word in sorted({tokens.stem(w) for w in plain | code_ids}):
        matched = table.by_path_word.get(word)
        if matched and len(matched) < n_files / 2:
            idf = math.log(n_files / len(matched))
            for f in matched:
                path_scores[f] += idf
    out["path"] = _top_dict(path_scores)
    return out, chunk_evidence


def _add_definitions(
    lex: LexicalModel,
    hits: list[int] | None,
    weight: float,
    file_scores: dict[int, float],
    chunk_evidence: dict[int, float],
) -> None:
    """Credit the definitions a request names (chunk positions ``hits``) and their
    files; a name defined in many files says less about each."""
    if not hits:
        return
    files = sorted({int(lex.chunk_file[p]) for p in hits})
    weight /= math.sqrt(len(files))
    for p in hits:
        chunk_evidence[p] += weight / RRF_K
    for f in files:
        file_scores[f] += weight


def _texts(index: RepoIndex, lex: LexicalModel, positions: list[int]) -> dict[int, str]:
    """Texts of chunks by id, read once per lexical snapshot."""
    missing = [lex.chunks[p].id for p in positions if lex.chunks[p].id not in lex.texts]
    if len(lex.texts) + len(missing) > TEXT_CACHE:
        lex.texts.clear()
        missing = [lex.chunks[p].id for p in positions]
    if missing:
        lex.texts.update(index.chunk_texts(missing))
    return lex.texts


def _rank_fusion(evidence: dict[str, dict[int, float]]) -> dict[int, float]:
    """Weighted reciprocal rank fusion (Cormack et al., 2009): robust to score scales."""
    fused: dict[int, float] = defaultdict(float)
    for name, scores in evidence.items():
        for r, f in enumerate(scores):
            fused[f] += WEIGHTS[name] / (RRF_K + r + 1)
    return fused


def _score_fusion(evidence: dict[str, dict[int, float]]) -> dict[int, float]:
    """Weighted sum of max-normalised scores (CombSUM): keeps the margins."""
    fused: dict[int, float] = defaultdict(float)
    for name, scores in evidence.items():
        top = max(scores.values(), default=0.0)
        if top > 0:
            for f, score in scores.items():
                fused[f] += WEIGHTS[name] * score / top
    return fused


def fuse(evidence: dict[str, dict[int, float]]) -> dict[int, float]:
    """Rank fusion plus score fusion, each scaled to a best of 1.

    Rank fusion alone ignores margins: a file far ahead in every lexical signal (the only
    one with an exact match) can lose to files that are merely near the top everywhere.
    """
    ranks = _rank_fusion(evidence)
    scores = _score_fusion(evidence)
    r_top = max(ranks.values(), default=1.0) or 1.0
    s_top = max(scores.values(), default=1.0) or 1.0
    return {f: ranks[f] / r_top + scores.get(f, 0.0) / s_top for f in ranks}


def search(index: RepoIndex, query: str, k: int = 10) -> SearchResult:
    """Rank the files of ``index`` for ``query`` and pick their best chunks."""
    lex = index.lexical()
    if not lex.paths or not query.strip():
        return SearchResult(query=query, files=[], chunks=[])
    evidence, chunk_evidence = signals(index, lex, query)
    fused = fuse(evidence)
    wanted = intents(query)
    about_other = bool(primary_intents(query))
    named = named_files(lex, query)
    for f in fused:
        if f in named:
            continue
        cat = categories.category(lex.paths[f])
        if cat == categories.SOURCE:
            if about_other:
                fused[f] *= SOURCE_WHEN_OTHER_INTENT
        elif cat not in wanted:
            fused[f] *= OFF_INTENT.get(cat, 1.0)
    order = _best_first(fused)[:k]
    return SearchResult(
        query=query,
        files=[lex.paths[f] for f in order],
        chunks=_pick_chunks(index, lex, order, fused, chunk_evidence),
    )


def _pick_chunks(
    index: RepoIndex,
    lex: LexicalModel,
    order: list[int],
    fused: dict[int, float],
    evidence: dict[int, float],
    per_file: int = 3,
) -> list[ScoredChunk]:
    """The best supporting chunks of the top files (a file's score times the chunk's
    share of its file's evidence)."""
    by_file: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for pos, score in evidence.items():
        by_file[int(lex.chunk_file[pos])].append((score, pos))
    picked: list[tuple[float, int]] = []
    for f in order:
        cands = sorted(by_file.get(f, []), reverse=True)[:per_file]
        if not cands:
            continue
        top = cands[0][0]
        picked += [(fused[f] * (0.5 + 0.5 * s / top), pos) for s, pos in cands]
    picked.sort(key=lambda sp: -sp[0])
    texts = _texts(index, lex, [pos for _, pos in picked])
    out = []
    for score, pos in picked:
        meta = lex.chunks[pos].chunk
        chunk = Chunk(
            meta.path, meta.language, meta.start_line, meta.end_line,
            texts.get(lex.chunks[pos].id, ""), meta.kind, meta.symbol, meta.parent,
            meta.signature,
        )
        out.append(ScoredChunk(chunk, score))
    return out
