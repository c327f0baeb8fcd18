"""The supporting chunks of the files a search ranked first."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from greenpair.core.types import Chunk, ScoredChunk

if TYPE_CHECKING:
    from greenpair.core.index.lexical import LexicalModel
    from greenpair.core.index.search.reader import IndexReader

TEXT_CACHE = 20_000  # chunk texts kept in memory between queries


def texts(index: IndexReader, lex: LexicalModel, positions: list[int]) -> dict[int, str]:
    """Texts of chunks by id, read once per lexical snapshot."""
    missing = [lex.chunks[p].id for p in positions if lex.chunks[p].id not in lex.texts]
    if len(lex.texts) + len(missing) > TEXT_CACHE:
        lex.texts.clear()
        missing = [lex.chunks[p].id for p in positions]
    if missing:
        lex.texts.update(index.chunk_texts(missing))
    return lex.texts


def file_texts(
    index: IndexReader, lex: LexicalModel, files: list[int], limit: int
) -> dict[int, str]:
    """The indexed text of ``files`` (chunks in line order), at most ``limit``
    characters each."""
    wanted = set(files)
    by_file: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pos, meta in enumerate(lex.chunks):
        f = int(lex.chunk_file[pos])
        if f in wanted:
            by_file[f].append((meta.chunk.start_line, meta.id))
    ids = [cid for rows in by_file.values() for _, cid in rows]
    found = index.chunk_texts(ids) if ids else {}
    return {
        f: "\n".join(found.get(cid, "") for _, cid in sorted(rows))[:limit]
        for f, rows in by_file.items()
    }


def pick_chunks(
    index: IndexReader,
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
    found = texts(index, lex, [pos for _, pos in picked])
    out = []
    for score, pos in picked:
        meta = lex.chunks[pos].chunk
        chunk = Chunk(
            meta.path, meta.language, meta.start_line, meta.end_line,
            found.get(lex.chunks[pos].id, ""), meta.kind, meta.symbol, meta.parent,
            meta.signature,
        )
        out.append(ScoredChunk(chunk, score))
    return out
