"""The manifest and lexical store of one repository index (SQLite, WAL).

Tables:

* ``files``: one row per indexed file with its content hash and ``state``:
  ``DELETED`` (a tombstone: its vectors may still be in Chroma), ``LEXICAL`` (chunks and
  terms stored, vectors not yet committed) or ``COMMITTED`` (both stores have it). A file
  row and its chunks change in one transaction, so the lexical side is never stale.
* ``chunks``: the chunks of current files with their term bags (ids and counts packed as
  int32). Ids are AUTOINCREMENT, never reused, and double as Chroma ids.
* ``terms``: the vocabulary. ``vectors``: embeddings by hash of the embedded text, so an
  unchanged chunk is never embedded twice, even after its file moved.
* ``skipped`` (what the walker left out, by reason) and ``meta``.
"""

from __future__ import annotations

import errno
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from greenpair.core.errors import IndexError_, StorageError
from greenpair.core.types import Chunk

SCHEMA_VERSION = 1
DELETED, LEXICAL, COMMITTED = 0, 1, 2
BUSY_WAIT_S = 30.0  # how long opening waits for another process creating the store
REBUILD_HINT = "Run `greenpair index --rebuild` to build it again from scratch."

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, language TEXT, state INTEGER NOT NULL,
    terms BLOB, length INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, file_sha TEXT NOT NULL,
    start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, kind TEXT NOT NULL,
    symbol TEXT, parent TEXT, signature TEXT, language TEXT NOT NULL, text TEXT NOT NULL,
    embed_hash TEXT, terms BLOB NOT NULL, length INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vec BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '');
"""


_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM}
_STORAGE_TEXTS = ("disk is full", "no space left", "readonly database", "read-only file system",
                  "quota exceeded", "unable to open database file")


def storage_error(folder: Path, exc: BaseException) -> StorageError | None:
    """A :class:`StorageError` when ``exc`` (or what caused it) means the data directory
    cannot be written (full, read-only), else ``None`` (damage, or a bug).

    A full disk must never be taken for a damaged index: rebuilding would delete it.
    """
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen).lower()
        full = "full" in text or "no space" in text or getattr(seen, "errno", None) in (
            errno.ENOSPC, errno.EDQUOT)
        if getattr(seen, "errno", None) in _STORAGE_ERRNOS or any(
            t in text for t in _STORAGE_TEXTS
        ):
            why = "the disk is full" if full else "the data directory is read-only"
            return StorageError(
                f"Cannot write the index in {folder}: {why}. The index is kept as it was.",
                hint="Free some space or make it writable, or set GREENPAIR_HOME to a "
                "folder on another disk.",
            )
        seen = seen.__cause__ or seen.__context__
    return None


# A path equal to a prefix or below it: a range of the primary key ("0" follows "/").
_UNDER = "(path = ? OR (path >= ? AND path < ?))"


def _under(prefix: str) -> tuple[str, str, str]:
    return prefix, prefix + "/", prefix + "0"


@dataclass(frozen=True)
class FileRow:
    """The manifest entry of one file."""

    path: str
    sha256: str
    size: int
    mtime_ns: int
    state: int


def pack(bag: dict[int, int]) -> bytes:
    """Pack a term-id → count bag as int32 ids followed by int32 counts."""
    ids = np.fromiter(bag.keys(), dtype=np.int32, count=len(bag))
    counts = np.fromiter(bag.values(), dtype=np.int32, count=len(bag))
    return ids.tobytes() + counts.tobytes()


def unpack(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`pack`."""
    arr = np.frombuffer(blob, dtype=np.int32)
    half = arr.size // 2
    return arr[:half], arr[half:]


class Store:
    """SQLite store of one index. Not thread-safe: one owner thread at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._vocab: dict[str, int] | None = None
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        deadline = time.monotonic() + BUSY_WAIT_S
        while True:
            try:
                self._open()
                return
            except sqlite3.OperationalError as exc:
                # Another process creating the store (or switching it to WAL) holds it for
                # a moment: that is not damage, so wait for it instead of rebuilding.
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy:
                    raise self._damaged(exc) from exc
                self.close()
                if time.monotonic() > deadline:
                    raise StorageError(
                        f"The index at {path.parent} is busy: another Greenpair process is "
                        "writing it.",
                        hint="Try again when that process is done.",
                    ) from exc
                time.sleep(0.1)
            except sqlite3.DatabaseError as exc:
                raise self._damaged(exc) from exc

    def _damaged(self, exc: sqlite3.DatabaseError) -> Exception:
        self.close()
        problem = storage_error(self.path.parent, exc)
        if problem is not None:
            return problem
        return IndexError_(f"The index at {self.path.parent} is damaged ({exc}).",
                           hint=REBUILD_HINT)

    def _open(self) -> None:
        """Create or check the schema (idempotent: safe to retry)."""
        path = self.path
        db = self.db
        db.executescript(_SCHEMA)
        version = self.get_meta("schema_version")
        if version is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
            db.commit()
        elif version != str(SCHEMA_VERSION):
            raise IndexError_(
                f"The index at {path.parent} was made by another Greenpair version.",
                hint=REBUILD_HINT,
            )
        db.execute("SELECT count(*) FROM files").fetchone()

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection (WAL: readers see committed snapshots while an
        update writes through its own connection)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection."""
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write (rolled back on any error, or when the process dies)."""
        try:
            with self.db:
                yield self.db
        except BaseException:
            self._vocab = None  # may hold ids of rolled-back terms
            raise

    # -- meta ---------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A meta value, or None."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a meta value (inside the caller's transaction, if any)."""
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def generation(self) -> int:
        """A counter bumped by every change of the lexical side (for in-memory caches)."""
        return int(self.get_meta("generation") or 0)

    def bump_generation(self) -> None:
        """Mark the lexical side changed (call inside the changing transaction)."""
        self.set_meta("generation", str(self.generation() + 1))
        self.set_meta("updated_at", f"{time.time():.3f}")

    # -- vocabulary ---------------------------------------------------------------
    def vocab(self) -> dict[str, int]:
        """The term → id map (loaded once, kept in step with inserts)."""
        if self._vocab is None:
            self._vocab = dict(self.db.execute("SELECT term, id FROM terms").fetchall())
        return self._vocab

    def term_ids(self, counts: dict[str, int]) -> dict[int, int]:
        """Map a term bag to term ids, adding unknown terms (inside a transaction)."""
        vocab = self.vocab()
        out: dict[int, int] = {}
        for term, n in counts.items():
            tid = vocab.get(term)
            if tid is None:
                tid = len(vocab) + 1
                self.db.execute("INSERT INTO terms(id, term) VALUES (?, ?)", (tid, term))
                vocab[term] = tid
            out[tid] = n
        return out

    def forget_vocab(self) -> None:
        """Drop the cached vocabulary when another process added terms since it was read.

        Terms are only ever added, with ids ``1..n`` in order, so the cache is current
        exactly when the table's largest id is its size.
        """
        if self._vocab is None:
            return
        largest = self.db.execute("SELECT max(id) FROM terms").fetchone()[0] or 0
        if largest != len(self._vocab):
            self._vocab = None

    # -- chunks -------------------------------------------------------------------
    def replace_file(
        self,
        row: FileRow,
        language: str | None,
        file_bag: dict[int, int],
        chunks: Sequence[tuple[Chunk, str | None, dict[int, int]]],
    ) -> None:
        """Store a file's new content (inside a transaction): chunks, terms, state LEXICAL."""
        self.db.execute("DELETE FROM chunks WHERE path=?", (row.path,))
        self.db.execute(
            "INSERT OR REPLACE INTO files(path, sha256, size, mtime_ns, language, state, terms,"
            " length) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (row.path, row.sha256, row.size, row.mtime_ns, language, LEXICAL, pack(file_bag),
             sum(file_bag.values())),
        )
        self.db.executemany(
            "INSERT INTO chunks(path, file_sha, start_line, end_line, kind, symbol, parent,"
            " signature, language, text, embed_hash, terms, length)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (row.path, row.sha256, c.start_line, c.end_line, c.kind, c.symbol, c.parent,
                 c.signature, c.language, c.text, embed_hash, pack(bag), sum(bag.values()))
                for c, embed_hash, bag in chunks
            ],
        )

    def chunk_rows(self, where: str = "", params: Sequence[object] = ()) -> list[tuple]:
        """``(id, Chunk, embed_hash, file_sha)`` rows, optionally filtered by SQL."""
        rows = self.db.execute(
            "SELECT id, path, language, start_line, end_line, text, kind, symbol, parent,"
            f" signature, embed_hash, file_sha FROM chunks {where} ORDER BY id",
            params,
        )
        return [(r[0], Chunk(*r[1:10]), r[10], r[11]) for r in rows]

    # -- files --------------------------------------------------------------------
    def files(self, state: int | None = None) -> dict[str, FileRow]:
        """Every manifest row, tombstones included (or only those in ``state``)."""
        query = "SELECT path, sha256, size, mtime_ns, state FROM files"
        rows = self.db.execute(query) if state is None else self.db.execute(
            query + " WHERE state=?", (state,)
        )
        return {r[0]: FileRow(*r) for r in rows}

    def files_under(self, scope: Sequence[str]) -> dict[str, FileRow]:
        """Manifest rows of the given paths and of everything below them."""
        out: dict[str, FileRow] = {}
        for prefix in scope:
            rows = self.db.execute(
                "SELECT path, sha256, size, mtime_ns, state FROM files"
                f" WHERE {_UNDER}", _under(prefix)
            )
            out.update((r[0], FileRow(*r)) for r in rows)
        return out

    def set_state(self, path: str, sha256: str, state: int) -> None:
        """Move a file to ``state`` if it still has content ``sha256``."""
        self.db.execute(
            "UPDATE files SET state=? WHERE path=? AND sha256=?", (state, path, sha256)
        )

    def tombstone(self, path: str) -> None:
        """Remove a file from the lexical side; keep a row until its vectors are gone."""
        self.db.execute("DELETE FROM chunks WHERE path=?", (path,))
        self.db.execute(
            "UPDATE files SET state=?, terms=NULL, length=0 WHERE path=?", (DELETED, path)
        )

    def drop_file(self, path: str) -> None:
        """Forget a tombstone for good (its vectors are gone)."""
        self.db.execute("DELETE FROM files WHERE path=? AND state=?", (path, DELETED))

    def replace_skipped(
        self, entries: Iterable[tuple[str, str, str]], scope: Sequence[str] | None = None
    ) -> None:
        """Replace the list of skipped paths (only those at or below ``scope``, if given)."""
        if scope is None:
            self.db.execute("DELETE FROM skipped")
        for prefix in scope or ():
            self.db.execute(f"DELETE FROM skipped WHERE {_UNDER}", _under(prefix))
        self.db.executemany("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?)", entries)

    def skipped_paths(self, reason: str) -> list[str]:
        """Paths skipped for ``reason``."""
        rows = self.db.execute("SELECT path FROM skipped WHERE reason=?", (reason,))
        return [r[0] for r in rows]

    def skipped_details(self, reason: str) -> dict[str, int]:
        """Why paths were skipped for ``reason`` (the detail with folder names kept and
        file names folded: ``compiled copy``, ``in build output folder dist/ ...``)."""
        rows = self.db.execute(
            "SELECT detail, count(*) FROM skipped WHERE reason=? GROUP BY detail", (reason,)
        )
        out: dict[str, int] = {}
        for detail, n in rows:
            key = detail.split(" of ", 1)[0] if detail.startswith(("compiled", "copy")) else detail
            out[key] = out.get(key, 0) + n
        return dict(sorted(out.items()))

    def skipped_counts(self) -> dict[str, int]:
        """Skipped paths by reason."""
        rows = self.db.execute("SELECT reason, count(*) FROM skipped GROUP BY reason")
        return dict(sorted(rows.fetchall()))

    # -- vectors ------------------------------------------------------------------
    def get_vectors(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Known embeddings by text hash."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(f"SELECT hash, vec FROM vectors WHERE hash IN ({marks})", part)
            for h, blob in rows:
                out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_vectors(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Store embeddings by text hash."""
        self.db.executemany(
            "INSERT OR REPLACE INTO vectors(hash, vec) VALUES (?, ?)",
            ((h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items),
        )

    def gc_vectors(self) -> int:
        """Delete embeddings no chunk uses any more; returns how many."""
        cur = self.db.execute(
            "DELETE FROM vectors WHERE hash NOT IN "
            "(SELECT embed_hash FROM chunks WHERE embed_hash IS NOT NULL)"
        )
        return cur.rowcount

    def clear_vectors(self) -> None:
        """Forget every embedding (the embedding model changed)."""
        self.db.execute("DELETE FROM vectors")
