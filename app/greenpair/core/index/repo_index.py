"""``RepoIndex``: the index of one repository, stored under ``index_dir(repo)``.

Layout of the index folder: ``index.sqlite3`` (manifest, chunks, terms, embeddings
cache; see ``store``), ``chroma-XXXX/`` (the local vector store; or a shared Chroma server, see
``vectors``) and ``write.lock`` (one writer per
repository across processes). The index is derived data: when it is damaged it is
rebuilt (``open_index(..., rebuild=True)`` or ``greenpair index --rebuild``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from greenpair.core.config import Settings, index_dir
from greenpair.core.energy.meter_protocol import EnergyMeter, meter_or_unmetered
from greenpair.core.errors import IndexError_, RepositoryError
from greenpair.core.index import embedder as embedder_mod
from greenpair.core.index.index_store import COMMITTED, LEXICAL, REBUILD_HINT, Store, storage_error
from greenpair.core.index.lexical import LexicalModel
from greenpair.core.types import Chunk, IndexProgress, SearchResult

log = logging.getLogger(__name__)

DB_NAME = "index.sqlite3"


def check_repo(repo: Path) -> Path:
    """Resolve ``repo`` or raise a RepositoryError that says how to fix it."""
    path = Path(repo).expanduser()
    if not path.exists():
        raise RepositoryError(
            f"The repository {path} does not exist.",
            hint="Check the path, or pass the folder of your project with --repo PATH.",
        )
    if not path.is_dir():
        raise RepositoryError(
            f"{path} is not a directory.",
            hint="Pass the folder of your project (not a file) with --repo PATH.",
        )
    return path.resolve()


class RepoIndex:
    """Lexical + dense index of one repository. Use :func:`open_index` to get one.

    Args:
        repo: The repository folder.
        settings: User settings (max file size; the defaults when None).
        precision: Embedding precision (``fp32`` or ``int8``).
        max_tokens: Embedded texts are truncated to this many tokens.
        embed_policy: Which chunks get vectors (see ``updater.should_embed``).
        meter: Measures index runs (the entry point's ``Services.meter``; unmeasured
            when None).
        embedder: The embedding model, shared by the caller.
        embedder_source: Gives the embedder for ``(precision, max_tokens)`` on first use
            when ``embedder`` is None (``Services.embedders.get``; default: load one for
            this index).
    """

    def __init__(
        self,
        repo: Path,
        settings: Settings | None = None,
        *,
        precision: str = embedder_mod.DEFAULT_PRECISION,
        max_tokens: int = embedder_mod.DEFAULT_MAX_TOKENS,
        embed_policy: str = "source",
        meter: EnergyMeter | None = None,
        embedder: embedder_mod.Embedder | None = None,
        embedder_source: Callable[[str, int], embedder_mod.Embedder] | None = None,
    ) -> None:
        self.repo = check_repo(repo)
        self.settings = settings if settings is not None else Settings()
        self.meter = meter_or_unmetered(meter)
        self.folder = index_dir(self.repo)
        self.precision = precision
        self.embed_policy = embed_policy
        self.max_tokens = max_tokens
        self.space = embedder_mod.space_name(
            precision, max_tokens, embedder_mod.space_base(self.settings.embedder_model))
        self._lock = threading.RLock()  # guards the lazily made components
        self._update_lock = threading.Lock()  # one update at a time in this process
        self._vectors: Any = None
        self._embedder: embedder_mod.Embedder | None = embedder
        model = self.settings.embedder_model  # the default source loads what the space names
        self._embedder_source = embedder_source or (
            lambda p, t: embedder_mod.load_embedder(p, t, model))
        self._lexical: LexicalModel | None = None
        self._history: Any = None
        self._history_key: tuple[float, ...] | None = None
        self.store = Store(self.folder / DB_NAME)
        self._check_space()

    # -- components -----------------------------------------------------------------
    def _check_space(self) -> None:
        """Forget vectors made by another model/precision or embedding policy."""
        tag = f"{self.space}|{self.embed_policy}"
        if self.store.get_meta("space") == tag:
            return
        with self.store.transaction() as db:
            self.store.clear_vectors()
            db.execute("UPDATE files SET state=? WHERE state=?", (LEXICAL, COMMITTED))
            if self.store.get_meta("space") is not None:  # re-hash what gets embedded
                db.execute("UPDATE files SET sha256='' WHERE state>0")
            self.store.set_meta("space", tag)
        self._wipe_vectors()

    def _check_vector_home(self) -> None:
        """Re-commit every file's vectors when they are to live somewhere else (another
        Chroma server, or local again). The embeddings cache is kept: nothing is
        re-embedded."""
        home = f"{self.settings.chroma_url or 'local'}|content-ids"
        if self.store.get_meta("vector_home") == home:
            return
        with self.store.transaction() as db:
            db.execute("UPDATE files SET state=? WHERE state=?", (LEXICAL, COMMITTED))
            self.store.set_meta("vector_home", home)
        self._wipe_vectors()

    def _wipe_vectors(self) -> None:
        """Drop the local vector store; the next one gets a fresh folder name, so a Chroma
        system cached for the old path (possibly broken) is never reused."""
        if self._vectors is not None:
            self._vectors.close()
        self._vectors = None
        old = self.store.get_meta("vectors_dir")
        for name in filter(None, (old, "chroma")):  # "chroma": the layout before 2026-12-02
            shutil.rmtree(self.folder / name, ignore_errors=True)
        with self.store.transaction():
            self.store.set_meta("vectors_dir", f"chroma-{secrets.token_hex(4)}")

    def _open_vectors(self) -> Any:
        from greenpair.core.index.vectors import VectorStore

        url = self.settings.chroma_url
        if url:
            from greenpair.core.index.identity import repo_identity

            return VectorStore.shared_store(url, repo_identity(self.repo), self.space,
                                            self._resolve, self.settings.allowed_hosts)
        name = self.store.get_meta("vectors_dir")
        if not name:
            self._wipe_vectors()
            name = self.store.get_meta("vectors_dir")
        return VectorStore.local(self.folder / str(name), self.space, self._resolve)

    def _resolve(self, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str],
                                                                    list[int]]:
        """This index's chunk ids for vector keys ``(path, file sha, embed hash)``."""
        db = self.store.db
        out: dict[tuple[str, str, str], list[int]] = {}
        for key in set(keys):
            out[key] = [r[0] for r in db.execute(
                "SELECT id FROM chunks WHERE path=? AND file_sha=? AND embed_hash=?", key)]
        return out

    def vectors(self) -> Any:
        """The vector store (opened on first use; a damaged local one is recreated).

        Raises:
            IndexError_: The shared Chroma server cannot be reached.
            PrivacyError: The shared server is neither loopback nor allow-listed.
        """
        with self._lock:
            if self._vectors is None:
                self._check_vector_home()
                try:
                    self._vectors = self._open_vectors()
                except IndexError_ as exc:
                    if self.settings.chroma_url:
                        raise  # a team server that is down is not damage: wipe nothing
                    problem = storage_error(self.folder, exc)
                    if problem is not None:  # full or read-only: wiping would lose it
                        raise problem from exc
                    log.warning("%s Recreating the vector store.", exc.message)
                    with self.store.transaction() as db:
                        db.execute(
                            "UPDATE files SET state=? WHERE state=?", (LEXICAL, COMMITTED)
                        )
                    self._wipe_vectors()
                    self._vectors = self._open_vectors()
            return self._vectors

    def embedder(self) -> embedder_mod.Embedder:
        """The embedding model (from ``embedder_source`` on first use)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = self._embedder_source(self.precision, self.max_tokens)
            return self._embedder

    def lexical(self) -> LexicalModel:
        """The in-memory BM25 model, reloaded when the store changed."""
        with self._lock:
            if self._lexical is None or self._lexical.generation != self.store.generation():
                self._lexical = LexicalModel(self.store)
            return self._lexical

    def git_log(self) -> Any:
        """The repository's git history for search (None without one), read again when
        ``HEAD`` moves."""
        from greenpair.core.index.search import git_log as history

        key = history.head_key(self.repo)
        with self._lock:
            if key != self._history_key:
                self._history = history.load(self.repo) if key else None
                self._history_key = key
            return self._history

    # -- public API -----------------------------------------------------------------
    def update(
        self, *, embed: bool = True, paths: Iterable[str] | None = None
    ) -> Iterator[IndexProgress]:
        """Bring the index up to date; yields progress. Stop iterating to cancel: the
        index stays consistent and the next run continues where this one stopped.

        Args:
            embed: Also embed new chunks (dense vectors); lexical is always updated.
            paths: Only these repository-relative paths changed (files or folders,
                existing or deleted): scan them and what is below them instead of the
                whole repository. Ignored (a full scan) while the index was never
                completed, or when a change at the top can affect every path.
        """
        from greenpair.core.index.updater import run_update
        from greenpair.core.repo.walker import refresh_scope

        scope = None if paths is None else refresh_scope(paths)
        with self._update_lock, writers_lock(self.folder), self.meter.window(
            "index", repo=str(self.repo)
        ):
            self.store.forget_vocab()
            if scope is not None and not self.is_built():
                scope = None
            try:
                yield from run_update(self, embed=embed, scope=scope)
            except Exception as exc:  # only storage failures are translated; the rest re-raised
                problem = storage_error(self.folder, exc)
                if problem is None:
                    raise
                raise problem from exc
        # The git history (the history signal's evidence) is read here, with the index's
        # background work, so the first search after a commit does not wait for
        # ``git log`` (0.25-0.45 s on repositories of 1,200-2,100 commits).
        self.git_log()

    def is_built(self) -> bool:
        """Whether a full update has completed at least once."""
        return self.store.get_meta("built") == "1"

    def ensure_built(self) -> None:
        """Run a full update when the index was never completed."""
        if not self.is_built():
            for _ in self.update():
                pass

    def search(self, query: str, k: int = 10) -> SearchResult:
        """Hybrid search (builds the index first when there is none)."""
        from greenpair.core.index.search import search

        self.ensure_built()
        return search(self, query, k)

    def file_chunks(self, path: str) -> list[Chunk]:
        """The current chunks of one file, in order."""
        rows = self.store.chunk_rows("WHERE path=?", (path,))
        return sorted((r[1] for r in rows), key=lambda c: (c.start_line, c.end_line))

    def has_embedded(self) -> bool:
        """Whether committed files have vectors (dense search has something to find)."""
        db = self.store.db
        if db.execute("SELECT 1 FROM files WHERE state=? LIMIT 1", (COMMITTED,)).fetchone() is None:
            return False
        return db.execute(
            "SELECT 1 FROM chunks WHERE embed_hash IS NOT NULL LIMIT 1").fetchone() is not None

    def committed_shas(self, paths: list[str]) -> dict[str, str]:
        """The content hash of each of ``paths`` that is committed (current) in the index."""
        marks = ",".join("?" * len(paths))
        return dict(self.store.db.execute(
            f"SELECT path, sha256 FROM files WHERE state=? AND path IN ({marks})",
            (COMMITTED, *paths),
        ))

    def chunk_texts(self, ids: list[int]) -> dict[int, str]:
        """Texts of chunks by id."""
        out: dict[int, str] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            out.update(
                self.store.db.execute(f"SELECT id, text FROM chunks WHERE id IN ({marks})", part)
            )
        return out

    def stats(self) -> dict[str, Any]:
        """Files, chunks, embedded chunks, skipped counts by reason, last update."""
        db = self.store.db
        files, pending = db.execute(
            "SELECT count(*), coalesce(sum(state=?), 0) FROM files WHERE state>0", (LEXICAL,)
        ).fetchone()
        chunks, embeddable = db.execute(
            "SELECT count(*), count(embed_hash) FROM chunks"
        ).fetchone()
        embedded = db.execute(
            "SELECT count(c.embed_hash) FROM chunks c JOIN files f ON f.path=c.path"
            " AND f.sha256=c.file_sha WHERE f.state=?", (COMMITTED,)
        ).fetchone()[0]
        skipped = self.store.skipped_counts()
        last = self.store.get_meta("last_update")
        return {
            "repo": str(self.repo),
            "index_dir": str(self.folder),
            "files": files,
            "chunks": chunks,
            "embeddable_chunks": embeddable,
            "embedded_chunks": embedded,
            "files_pending_embedding": pending,
            "skipped": skipped,
            "skipped_total": sum(skipped.values()),
            "generated": self.store.skipped_details("generated"),
            "last_update": float(last) if last else None,
            "embedding": self.space,
        }

    def close(self) -> None:
        """Release the stores."""
        with self._lock:
            if self._vectors is not None:
                self._vectors.close()
            self._vectors = None
            self._lexical = None
            self.store.close()


def open_index(
    repo: Path, settings: Settings | None = None, *, rebuild: bool = False, **options: Any
) -> RepoIndex:
    """Open (or create) the index of ``repo``.

    Args:
        repo: The repository folder.
        settings: User settings (the defaults when omitted).
        rebuild: Delete the stored index first and start from scratch.
        **options: ``precision``, ``max_tokens``, ``embed_policy``, ``meter`` and
            ``embedder`` (see :class:`RepoIndex`).

    Raises:
        RepositoryError: ``repo`` is missing or not a directory.
        IndexError_: The stored index is damaged beyond automatic repair.
    """
    path = check_repo(repo)
    folder = index_dir(path)
    if rebuild:
        _remove_index(folder)
    try:
        return RepoIndex(path, settings, **options)
    except IndexError_ as exc:
        if rebuild:
            raise
        # Derived data: rebuild rather than fail, and say so.
        from greenpair.core import messages

        # Another process may be writing the index (or creating it) right now: deleting
        # files under it would damage a good index. Decide under the writers' lock, after
        # one more try once any writer is done.
        folder.mkdir(parents=True, exist_ok=True)
        with writers_lock(folder):
            try:
                return RepoIndex(path, settings, **options)
            except IndexError_:
                pass
            messages.warning(f"{exc.message} Greenpair rebuilds the index.")
            _remove_index(folder)
            try:
                return RepoIndex(path, settings, **options)
            except IndexError_ as again:
                raise IndexError_(again.message, hint=REBUILD_HINT) from again


@contextmanager
def writers_lock(folder: Path) -> Iterator[None]:
    """Hold the index's cross-process writers' lock (``write.lock``, one writer at a time)."""
    try:
        handle = open(folder / "write.lock", "a+b")  # noqa: SIM115 - held across yields
    except OSError as exc:
        raise storage_error(folder, exc) or IndexError_(
            f"Cannot open {folder / 'write.lock'}: {exc.strerror or exc}."
        ) from exc
    try:
        try:
            import fcntl
        except ImportError:  # Windows: one writer per process is all we guard
            fcntl = None  # type: ignore[assignment]
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # releases the lock


def _remove_index(folder: Path) -> None:
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(folder / name)
    for sub in folder.glob("chroma*"):
        shutil.rmtree(sub, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
