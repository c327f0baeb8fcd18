"""Dense evidence: cosine of the request's embedding to the chunk vectors in Chroma."""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenpair.core import messages
from greenpair.core.index.store import COMMITTED

if TYPE_CHECKING:
    from greenpair.core.index.lexical import LexicalModel
    from greenpair.core.index.repo_index import RepoIndex


def dense_scores(
    index: RepoIndex, lex: LexicalModel, query: str, depth: int
) -> dict[int, float]:
    """Best cosine per chunk position (the ``depth`` nearest chunks), for chunks of
    committed, current files; empty while nothing is embedded."""
    db = index.store.db
    if db.execute("SELECT 1 FROM files WHERE state=? LIMIT 1", (COMMITTED,)).fetchone() is None:
        return {}
    if not db.execute("SELECT 1 FROM chunks WHERE embed_hash IS NOT NULL LIMIT 1").fetchone():
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
