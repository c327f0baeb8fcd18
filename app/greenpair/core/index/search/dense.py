"""Dense evidence: cosine of the request's embedding to the chunk vectors in Chroma."""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenpair.core import messages

if TYPE_CHECKING:
    from greenpair.core.index.lexical import LexicalModel
    from greenpair.core.index.search.reader import IndexReader


def dense_scores(
    index: IndexReader, lex: LexicalModel, query: str, depth: int
) -> dict[int, float]:
    """Best cosine per chunk position (the ``depth`` nearest chunks), for chunks of
    committed, current files; empty while nothing is embedded."""
    if not index.has_embedded():
        return {}
    vector = index.embedder().embed([query])[0]
    try:
        hits = index.vectors().query(vector, depth)
    except Exception as exc:  # noqa: BLE001 - Chroma raises many types; words still rank
        # Seen when another process rewrites the HNSW segment under this reader
        # ("Error creating hnsw segment reader: Nothing found on disk").
        messages.warning(
            f"The vector index could not be read ({exc}); this search ranked by words and "
            "names only. It is usually another Greenpair process updating the index: search "
            "again in a moment, or run `greenpair index --rebuild` if it persists."
        )
        return {}
    current = index.committed_shas(sorted({h[1] for h in hits}))
    out: dict[int, float] = {}
    for cid, path, sha, cosine in hits:
        pos = lex.chunk_index.get(cid)
        if pos is not None and current.get(path) == sha:
            out[pos] = cosine
    return out
