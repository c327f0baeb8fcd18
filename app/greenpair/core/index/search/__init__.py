"""Search of one repository's index, read top to bottom:

1. ``query``: the request cleaned of references, its headline and intents;
2. ``evidence.gather``: each signal's evidence (BM25 over files and chunks, dense,
   phrases, names), every signal a small module over the index's data;
3. ``fusion.fuse``: one fusion into a file ranking (``Ranking`` is its one setting);
4. ``chunks.pick_chunks``: the supporting chunks of the top files.

Measured choices are in ``benchmarks/retrieval.py`` and the README.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenpair.core.index.search.chunks import pick_chunks
from greenpair.core.index.search.evidence import SIGNALS, Evidence, best_first, gather
from greenpair.core.index.search.fusion import DEFAULT, Ranking, chunk_evidence, fuse
from greenpair.core.types import SearchResult

if TYPE_CHECKING:
    from greenpair.core.index.search.reader import IndexReader

__all__ = ["DEFAULT", "SIGNALS", "Evidence", "Ranking", "fuse", "gather", "search"]


def search(index: IndexReader, query: str, k: int = 10, ranking: Ranking = DEFAULT) -> SearchResult:
    """Rank the files of ``index`` for ``query`` and pick their best chunks."""
    lex = index.lexical()
    if not lex.paths or not query.strip():
        return SearchResult(query=query, files=[], chunks=[])
    ev = gather(index, lex, query)
    fused = fuse(lex, ev, ranking)
    order = best_first(fused)[:k]
    return SearchResult(
        query=query,
        files=[lex.paths[f] for f in order],
        chunks=pick_chunks(index, lex, order, fused, chunk_evidence(ev)),
    )
