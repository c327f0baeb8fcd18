"""The dense side of an index: a Chroma collection with explicit embeddings.

Chroma never embeds anything itself here (``embedding_function=None``; every call passes
embeddings), so its default embedding function, which downloads a model, is never used.
Telemetry is off. One collection per embedding space (its name is a hash of the
embedder's name), so changing the model or precision never mixes vectors.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from greenpair.core.errors import IndexError_
from greenpair.core.index.store import REBUILD_HINT

log = logging.getLogger(__name__)


class VectorStore:
    """Chunk vectors with ``path`` and ``sha`` (file content hash) metadata.

    Ids are the SQLite chunk ids (never reused), as strings.
    """

    def __init__(self, folder: Path, space: str) -> None:
        import chromadb
        from chromadb.config import Settings

        self.folder = folder
        name = "chunks-" + hashlib.sha1(space.encode()).hexdigest()[:16]
        self._client: Any = None
        try:
            self._client = chromadb.PersistentClient(
                path=str(folder), settings=Settings(anonymized_telemetry=False)
            )
            self._collection = self._client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"space": space},
            )
            self._collection.count()
        except Exception as exc:  # Chroma raises many types for a damaged store
            self.close()
            raise IndexError_(
                f"The vector store at {folder} cannot be opened ({exc}).", hint=REBUILD_HINT
            ) from exc

    def close(self) -> None:
        """Release Chroma's per-path system (it is cached process-wide by path)."""
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # closing a damaged store may fail; it is being dropped
                log.debug("closing the vector store failed", exc_info=True)
            self._client = None

    @staticmethod
    def wipe(folder: Path) -> None:
        """Delete a (damaged) vector store folder, and Chroma's cached system for it."""
        _forget_system(folder)
        shutil.rmtree(folder, ignore_errors=True)

    def count(self) -> int:
        """Number of stored vectors."""
        return int(self._collection.count())

    def add(self, ids: Sequence[int], vectors: np.ndarray, path: str, sha: str) -> None:
        """Add one file's chunk vectors (replacing any with the same ids)."""
        if not ids:
            return
        self._collection.upsert(
            ids=[str(i) for i in ids],
            embeddings=np.asarray(vectors, dtype=np.float32),
            metadatas=[{"path": path, "sha": sha} for _ in ids],
        )

    def delete_path(self, path: str) -> None:
        """Remove every vector of ``path``."""
        self._collection.delete(where={"path": path})

    def paths(self) -> set[str]:
        """Every path that has vectors (for consistency checks)."""
        got = self._collection.get(include=["metadatas"])
        return {str(m["path"]) for m in got.get("metadatas") or [] if m}

    def query(self, vector: np.ndarray, n: int) -> list[tuple[int, str, str, float]]:
        """Nearest chunks: ``(chunk_id, path, sha, cosine_similarity)``, best first."""
        total = self.count()
        if total == 0:
            return []
        result: Any = self._collection.query(
            query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
            n_results=min(n, total),
            include=["metadatas", "distances"],
        )
        out = []
        for cid, meta, dist in zip(
            result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True
        ):
            out.append((int(cid), str(meta["path"]), str(meta["sha"]), 1.0 - float(dist)))
        return out


def _forget_system(folder: Path) -> None:
    """Drop Chroma's process-wide cached system of ``folder``.

    Chroma caches one system per persist directory; after a failed start, or once the
    folder is deleted, that cached system is broken, and a new client would reuse it.
    There is no public API for this (``clear_system_cache`` drops every system).
    """
    try:
        from chromadb.api.shared_system_client import SharedSystemClient
    except ImportError:  # pragma: no cover - layout of another Chroma version
        return
    key = str(folder)
    system = SharedSystemClient._identifier_to_system.pop(key, None)
    SharedSystemClient._identifier_to_refcount.pop(key, None)
    if system is not None:
        try:
            system.stop()
        except Exception:  # a broken system may fail to stop; it is discarded anyway
            log.debug("stopping a cached Chroma system failed", exc_info=True)
