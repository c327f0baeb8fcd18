"""BM25 over chunks and over whole files, held in memory as sparse matrices.

The term bags live in SQLite (see ``store``); loading them into two CSC matrices of
precomputed BM25 weights takes milliseconds per thousand chunks, and a query is then one
column slice and one sum. The model is rebuilt when the store's generation changes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from greenpair.core.index import categories, tokens
from greenpair.core.index.index_store import Store, unpack
from greenpair.core.types import Chunk

K1 = 1.2
CHUNK_B = 0.75
FILE_B = 0.75  # the usual BM25 length normalisation: a long file must not win on volume


@dataclass
class ChunkMeta:
    """What retrieval needs of a chunk without its text."""

    id: int
    chunk: Chunk  # text left empty; fetched on demand
    embedded: bool


def chunk_document(chunk: Chunk) -> Counter[str]:
    """Term bag of a chunk: its text, its path and its (parent) symbol."""
    out = tokens.bag(chunk.text)
    out.update(tokens.path_tokens(chunk.path))
    for name in (chunk.symbol, chunk.parent):
        if name:
            out.update(tokens.tokenize(name))
    return out


def file_document(path: str, text: str) -> Counter[str]:
    """Term bag of a whole file: path and content."""
    out = tokens.bag(text)
    out.update(tokens.path_tokens(path))
    return out


def bm25_idf(n_docs: int, df: np.ndarray | float) -> np.ndarray:
    """BM25 idf of terms found in ``df`` of ``n_docs`` documents."""
    return np.log1p((n_docs - df + 0.5) / (df + 0.5))


def _bm25_matrix(
    bags: list[bytes | None], lengths: np.ndarray, n_terms: int, b: float
) -> object:
    """CSC matrix (docs × terms) of BM25 term weights."""
    from scipy import sparse

    indptr = np.zeros(len(bags) + 1, dtype=np.int64)
    id_parts: list[np.ndarray] = []
    tf_parts: list[np.ndarray] = []
    for i, blob in enumerate(bags):
        if blob:
            ids, counts = unpack(blob)
            id_parts.append(ids)
            tf_parts.append(counts)
            indptr[i + 1] = indptr[i] + ids.size
        else:
            indptr[i + 1] = indptr[i]
    cols = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int32)
    tf = np.concatenate(tf_parts).astype(np.float32) if tf_parts else np.zeros(0, np.float32)
    n_docs = len(bags)
    df = np.bincount(cols, minlength=n_terms + 1).astype(np.float32)
    idf = bm25_idf(n_docs, df).astype(np.float32)
    avg = float(lengths.mean()) if n_docs and lengths.mean() > 0 else 1.0
    row_len = np.repeat(lengths.astype(np.float32), np.diff(indptr))
    weight = idf[cols] * tf * (K1 + 1) / (tf + K1 * (1 - b + b * row_len / avg))
    matrix = sparse.csr_matrix((weight, cols, indptr), shape=(n_docs, n_terms + 1))
    return matrix.tocsc()


class LexicalModel:
    """BM25 over the current chunks and files of a store (a read-only snapshot)."""

    def __init__(self, store: Store) -> None:
        db = store.db
        db.execute("BEGIN")  # one consistent snapshot for everything read below
        try:
            self._load(store)
        finally:
            db.execute("COMMIT")

    def _load(self, store: Store) -> None:
        self.generation = store.generation()
        self.vocab: dict[str, int] = dict(store.db.execute("SELECT term, id FROM terms"))
        n_terms = max(self.vocab.values(), default=0)
        rows = store.db.execute(
            "SELECT c.id, c.path, c.language, c.start_line, c.end_line, c.kind, c.symbol,"
            " c.parent, c.signature, c.embed_hash, c.terms, c.length FROM chunks c"
            " JOIN files f ON f.path = c.path AND f.sha256 = c.file_sha ORDER BY c.id"
        ).fetchall()
        self.chunks = [
            ChunkMeta(
                r[0], Chunk(r[1], r[2], r[3], r[4], "", r[5], r[6], r[7], r[8]), r[9] is not None
            )
            for r in rows
        ]
        self.chunk_index = {meta.id: i for i, meta in enumerate(self.chunks)}
        self.chunk_matrix = _bm25_matrix(
            [r[10] for r in rows], np.array([r[11] for r in rows], dtype=np.float32), n_terms,
            CHUNK_B,
        )
        files = store.db.execute(
            "SELECT path, terms, length FROM files WHERE state > 0 ORDER BY path"
        ).fetchall()
        self.paths = [f[0] for f in files]
        self.path_index = {p: i for i, p in enumerate(self.paths)}
        self.file_matrix = _bm25_matrix(
            [f[1] for f in files], np.array([f[2] for f in files], dtype=np.float32), n_terms,
            FILE_B,
        )
        self.chunk_file = np.array(
            [self.path_index.get(m.chunk.path, -1) for m in self.chunks], dtype=np.int64
        )
        # Chunks of prose (docs, text, config), as positions in ``self.chunks``.
        self.prose_chunks = np.array(
            [i for i, m in enumerate(self.chunks) if not categories.is_code(m.chunk.language)],
            dtype=np.int64,
        )
        # Chunks holding each term (CSC: one column per term).
        self.chunk_df = np.diff(self.chunk_matrix.indptr)  # type: ignore[attr-defined]
        self.texts: dict[int, str] = {}  # chunk id -> text, filled on demand
        # chunk id -> word -> positions, for phrase evidence (see ``search.phrases``)
        self.phrase_positions: dict[int, dict[str, tuple[int, ...]]] = {}

    def idf(self, term: str) -> float:
        """BM25 idf of ``term`` over the chunks (0 for a term no chunk has)."""
        i = self.vocab.get(term)
        if i is None or i >= self.chunk_df.size:
            return 0.0
        return float(bm25_idf(len(self.chunks), float(self.chunk_df[i])))

    def _query(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(t for t in tokens.tokenize(query) if t in self.vocab)
        ids = np.array([self.vocab[t] for t in counts], dtype=np.int64)
        weights = np.array(list(counts.values()), dtype=np.float32)
        return ids, weights

    def _scores(self, matrix: object, query: str) -> np.ndarray:
        ids, weights = self._query(query)
        n_rows = matrix.shape[0]  # type: ignore[attr-defined]
        if ids.size == 0 or n_rows == 0:
            return np.zeros(n_rows, dtype=np.float32)
        sub = matrix[:, ids]  # type: ignore[index]
        return np.asarray(sub @ weights).ravel()

    def chunk_scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (aligned with ``self.chunks``)."""
        return self._scores(self.chunk_matrix, query)

    def file_scores(self, query: str) -> np.ndarray:
        """BM25 score of every file (aligned with ``self.paths``)."""
        return self._scores(self.file_matrix, query)
