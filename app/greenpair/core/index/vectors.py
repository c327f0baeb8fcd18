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
            raise IndexError_(
                f"The vector store at {folder} cannot be opened ({exc}).", hint=REBUILD_HINT
            ) from exc

    @staticmethod
    def wipe(folder: Path) -> None:
        """Delete a (damaged) vector store folder."""
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
