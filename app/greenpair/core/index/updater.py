"""The incremental index run: scan → lexical → embed → cleanup → done.

Consistency rules (so that stopping at any yield, Ctrl+C or kill -9 is harmless):

* No SQLite transaction is open across a ``yield``.
* A changed file's row, chunks and terms are replaced in one transaction (state
  ``LEXICAL``): lexical search sees old or new content, never a mix.
* A deleted file becomes a tombstone in the same way; its vectors are removed in the
  cleanup phase, and dense hits are only served for files ``COMMITTED`` with the same hash.
* Embeddings go to the ``vectors`` cache as soon as each batch is done, so an interrupted
  run loses at most one batch; a file becomes ``COMMITTED`` only after Chroma holds all
  its vectors.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from greenpair.core.index import categories
from greenpair.core.index.index_store import COMMITTED, DELETED, LEXICAL, FileRow
from greenpair.core.index.lexical import chunk_document, file_document
from greenpair.core.types import Chunk, IndexProgress

if TYPE_CHECKING:
    from pathlib import Path

    from greenpair.core.config import Settings
    from greenpair.core.energy.meter_protocol import EnergyMeter
    from greenpair.core.index.embedder import Embedder
    from greenpair.core.index.index_store import Store
    from greenpair.core.repo.walker import WalkedFile

log = logging.getLogger(__name__)


class UpdateTarget(Protocol):
    """What an update writes to (``RepoIndex`` is one; the index calls the updater, the
    updater never imports the index)."""

    repo: Path
    settings: Settings
    store: Store
    meter: EnergyMeter
    space: str
    embed_policy: str

    def embedder(self) -> Embedder:
        """The embedding model."""
        ...

    def vectors(self) -> Any:
        """The vector store."""
        ...

    def lexical(self) -> Any:
        """The in-memory BM25 model."""
        ...

_LEXICAL_BATCH_S = 0.25  # commit lexical work (and yield) at least this often
_WAVE = 256  # chunks per embedding wave (sorted by length within a wave)
_EMBED_BATCH = 32
# Texts of changed files kept in memory between the scan and the lexical pass; past it a
# file is read again when its turn comes, so memory does not grow with the repository.
_TEXT_BUDGET = 64 << 20


def embed_text(chunk: Chunk) -> str:
    """What is embedded for a chunk: its qualified name and its text (no path, so the
    vector survives a move or rename of the file)."""
    name = ".".join(n for n in (chunk.parent, chunk.symbol) if n)
    head = f"{chunk.kind} {name}\n" if name else ""
    return head + chunk.text


def should_embed(chunk: Chunk, policy: str) -> bool:
    """Whether a chunk gets a vector: ``source`` (code in source files, the default),
    ``code`` (code anywhere, tests included) or ``all``."""
    if policy == "all":
        return bool(chunk.text.strip())
    if not categories.is_code(chunk.language):
        return False
    return policy == "code" or categories.category(chunk.path) == categories.SOURCE


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _chunks_of(entry: WalkedFile) -> list[Chunk]:
    from greenpair.core.repo.chunker import chunk_file

    try:
        chunks = chunk_file(entry.path, entry.text, entry.language)
    except Exception:  # a chunker bug must not stop the index: fall back to windows
        log.exception("chunking %s failed; using line windows", entry.path)
        chunks = []
    if chunks or not entry.text.strip():
        return chunks
    lines = entry.text.splitlines()
    return [
        Chunk(entry.path, entry.language or "text", i + 1, min(i + 60, len(lines)),
              "\n".join(lines[i : i + 60]))
        for i in range(0, len(lines), 60)
    ]


def run_update(
    index: UpdateTarget, *, embed: bool = True, scope: Sequence[str] | None = None
) -> Iterator[IndexProgress]:
    """The body of ``RepoIndex.update`` (the caller holds the write lock).

    ``scope`` (from ``walker.refresh_scope``) limits the scan to those paths and what is
    below them; files outside it are left as they are.
    """
    from greenpair.core.repo.walker import WalkedFile, walk, walk_paths

    store = index.store
    started = time.monotonic()
    max_bytes = index.settings.max_file_bytes
    if scope is None:
        yield IndexProgress("scan", message=f"Scanning {index.repo}")
        manifest = store.files()
        entries = walk(index.repo, max_bytes=max_bytes)
    else:
        yield IndexProgress("scan", message=f"Scanning {len(scope)} changed paths")
        manifest = store.files_under(scope)
        entries = walk_paths(index.repo, scope, max_bytes=max_bytes)
    changed: list[WalkedFile] = []
    seen: set[str] = set()
    walked: dict[str, str] = {}  # path -> content hash
    skipped: list[tuple[str, str, str]] = []
    kept_text = 0
    reread: set[str] = set()  # changed files whose text was dropped (over the budget)
    limit = max(1, index.settings.max_files)
    for n, entry in enumerate(entries, 1):
        if isinstance(entry, WalkedFile):
            if len(walked) >= limit:
                skipped.append(_file_limit(index, limit, walked))
                break
            seen.add(entry.path)
            walked[entry.path] = entry.sha256
            row = manifest.get(entry.path)
            if row is None or row.sha256 != entry.sha256 or row.state == DELETED:
                kept_text += len(entry.text)
                if kept_text > _TEXT_BUDGET:
                    reread.add(entry.path)
                    entry = dataclasses.replace(entry, text="")
                changed.append(entry)
        else:
            skipped.append((entry.path, entry.reason, entry.detail))
        if n % 500 == 0:
            yield IndexProgress("scan", files_done=len(seen), message="Scanning")
    generated = _build_output(index, walked, scope)
    for path, why in sorted(generated.items()):
        if path in seen:
            seen.discard(path)
            skipped.append((path, "generated", why))
    if generated:
        changed = [entry for entry in changed if entry.path not in generated]
    gone = [p for p, row in manifest.items() if p not in seen and row.state != DELETED]
    with store.transaction():
        for path in gone:
            store.tombstone(path)
        store.replace_skipped(skipped, scope)
        if gone:
            store.bump_generation()

    total_chunks = done_chunks = 0
    batch_start = time.monotonic()
    pending: list[tuple[WalkedFile, list[Chunk]]] = []
    for i, entry in enumerate(changed, 1):
        if entry.path in reread:
            entry = _read_again(index, entry)
        pending.append((entry, _chunks_of(entry)))
        if time.monotonic() - batch_start >= _LEXICAL_BATCH_S or i == len(changed):
            done_chunks += _commit_lexical(index, pending)
            pending = []
            batch_start = time.monotonic()
            rate = i / max(time.monotonic() - started, 1e-6)
            yield IndexProgress(
                "lexical", i, len(changed), done_chunks, done_chunks,
                eta_s=(len(changed) - i) / rate, message=entry.path,
            )
    total_chunks = done_chunks
    if embed:
        yield from _embed(index, started)
    yield IndexProgress("cleanup", message="Removing stale entries")
    _cleanup(index)
    with store.transaction():
        store.set_meta("built", "1")
        store.set_meta("last_update", f"{time.time():.3f}")
    yield IndexProgress(
        "done", len(changed), len(changed), total_chunks, total_chunks, eta_s=0.0,
        message=f"{len(changed)} changed, {len(gone)} removed",
    )


def _read_again(index: UpdateTarget, entry: WalkedFile) -> WalkedFile:
    """A changed file whose text was dropped after the scan, read again (as it is now)."""
    from greenpair.core.repo.walker import WalkedFile, walk_paths

    for fresh in walk_paths(index.repo, [entry.path], max_bytes=index.settings.max_file_bytes):
        if isinstance(fresh, WalkedFile) and fresh.path == entry.path:
            return fresh
    return entry  # gone or now skipped: indexed as empty; the next update tombstones it


def _file_limit(index: UpdateTarget, limit: int, walked: dict[str, str]) -> tuple[str, str, str]:
    """Warn that the repository has more files than ``max_files``; the skipped entry."""
    from greenpair.core import messages

    folders = Counter(p.split("/", 1)[0] + "/" for p in walked if "/" in p)
    biggest = ", ".join(f"{name} ({count:,} files)" for name, count in folders.most_common(3))
    text = (
        f"{index.repo} has more than {limit:,} files to index; only the first {limit:,} "
        f"are indexed (biggest folders: {biggest or 'none'}). Leave out what is not your "
        "code in a .greenpairignore file at the top of the repository (one folder per line, "
        f"e.g. `{(folders.most_common(1) or [('data/', 0)])[0][0]}`), or raise the limit: "
        f"greenpair config set max_files {limit * 2}"
    )
    messages.warning(text)
    return ("<more files>", "file_limit", text)


def _build_output(
    index: UpdateTarget, walked: dict[str, str], scope: Sequence[str] | None
) -> dict[str, str]:
    """Walked files that are build output (see ``repo.build_output``), with the reason.

    A refresh of some paths judges them against the whole tree: the files indexed
    outside its scope and those recognised before.
    """
    from greenpair.core.repo.build_output import recognise

    universe = walked
    if scope is not None:
        universe = {p: row.sha256 for p, row in index.store.files().items()
                    if row.state != DELETED}
        universe.update(dict.fromkeys(index.store.skipped_paths("generated"), ""))
        universe.update(walked)
    return {p: why for p, why in recognise(universe).items() if p in walked}


def _commit_lexical(index: UpdateTarget, items: list[tuple[WalkedFile, list[Chunk]]]) -> int:
    store = index.store
    count = 0
    with store.transaction():
        for entry, chunks in items:
            rows = []
            for chunk in chunks:
                embed_hash = (
                    _hash(index.space + "\0" + embed_text(chunk))
                    if should_embed(chunk, index.embed_policy) else None
                )
                rows.append((chunk, embed_hash, store.term_ids(chunk_document(chunk))))
            file_bag = store.term_ids(file_document(entry.path, entry.text))
            row = FileRow(entry.path, entry.sha256, entry.size, entry.mtime_ns, LEXICAL)
            store.replace_file(row, entry.language, file_bag, rows)
            count += len(chunks)
        store.bump_generation()
    return count


def _embed(index: UpdateTarget, started: float) -> Iterator[IndexProgress]:
    store = index.store
    files = store.files(LEXICAL)
    if not files:
        return
    if len(files) <= 200:  # a few edited files: fetch just their chunks
        marks = ",".join("?" * len(files))
        rows = store.chunk_rows(f"WHERE path IN ({marks})", list(files))
    else:
        rows = [r for r in store.chunk_rows() if r[1].path in files]
    by_file: dict[str, list[tuple[int, str]]] = {p: [] for p in files}
    texts: dict[str, str] = {}
    for cid, chunk, embed_hash, _sha in rows:
        if embed_hash is not None:
            by_file[chunk.path].append((cid, embed_hash))
            texts.setdefault(embed_hash, embed_text(chunk))
    known = store.get_vectors(list(texts))
    todo = [h for h in texts if h not in known]
    vectors = index.vectors()
    shared = vectors.known(todo)  # a team's Chroma server: vectors someone already made
    if shared:
        with store.transaction():
            store.put_vectors(shared.items())
        known.update(shared)
        todo = [h for h in todo if h not in shared]
    if known:
        index.meter.record_saving("embeddings_reused", count=len(known))
    embedder = index.embedder() if todo else None
    embed_started = time.monotonic()
    total = len(todo)
    ready = set(known)
    committed: set[str] = set()
    for wave_start in range(0, max(total, 1), _WAVE):
        wave = sorted(todo[wave_start : wave_start + _WAVE], key=lambda h: len(texts[h]))
        for b in range(0, len(wave), _EMBED_BATCH):
            batch = wave[b : b + _EMBED_BATCH]
            assert embedder is not None
            vecs = embedder.embed([texts[h] for h in batch])
            with store.transaction():
                store.put_vectors(zip(batch, vecs, strict=True))
            ready.update(batch)
            done = wave_start + b + len(batch)
            rate = done / max(time.monotonic() - embed_started, 1e-6)
            yield IndexProgress(
                "embed", len(committed), len(files), done, total,
                eta_s=(total - done) / rate, message="Embedding",
            )
        for path, items in by_file.items():
            if path not in committed and all(h in ready for _, h in items):
                _commit_vectors(index, vectors, files[path], items)
                committed.add(path)
        yield IndexProgress(
            "embed", len(committed), len(files), min(wave_start + _WAVE, total), total,
            message="Storing vectors",
        )


def _commit_vectors(
    index: UpdateTarget, vectors: object, row: FileRow, items: list[tuple[int, str]]
) -> None:
    from greenpair.core.index.vectors import VectorStore

    assert isinstance(vectors, VectorStore)
    store = index.store
    vectors.delete_path(row.path)
    if items:
        found = store.get_vectors([h for _, h in items])
        matrix = np.stack([found[h] for _, h in items])
        vectors.add(row.path, row.sha256, [h for _, h in items], matrix)
    with store.transaction():
        store.set_state(row.path, row.sha256, COMMITTED)


def _cleanup(index: UpdateTarget) -> None:
    store = index.store
    tombstones = list(store.files(DELETED))
    if tombstones:
        vectors = index.vectors()
        for path in tombstones:
            vectors.delete_path(path)
            with store.transaction():
                store.drop_file(path)
    with store.transaction():
        removed = store.gc_vectors()
    if removed:
        log.debug("dropped %d unused embeddings", removed)
