"""The dense side of an index: a Chroma collection with explicit embeddings.

Chroma never embeds anything itself here (``embedding_function=None``; every call passes
embeddings), so its default embedding function, which downloads a model, is never used.
Telemetry is off. Only Chroma's public client API is used.

Two homes for the vectors:

* **local** (default): a ``PersistentClient`` in the index folder; one collection per
  embedding space.
* **shared** (``chroma_url``): a team's ``chroma run`` server through ``HttpClient``; the
  collection is named after the repository's identity (its remote URL or root commit,
  see ``identity``) and the embedding space, so two repositories never share one.

Vector ids are derived from content: ``(path, file hash, embedded-text hash, n)``. Two
developers indexing the same commit therefore write the same ids with the same vectors
(an upsert of what is there is skipped), and the second one reuses the first one's
vectors instead of embedding (``known``). A shared collection is never deleted from:
another developer may still be on the commit whose vectors an update would drop; queries
keep only hits whose file hash matches this checkout. Only vectors, paths and hashes
are stored on the server, never code.

Ids are mapped back to this index's chunk ids by a ``resolver`` given by the index.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from greenpair.core.errors import IndexError_
from greenpair.core.index.index_store import REBUILD_HINT

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (path, file sha, embed hash)
Resolver = Callable[[Sequence[Key]], dict[Key, list[int]]]
_GET_BATCH = 200  # ids or hashes per ``get`` (well under Chroma's batch limits)


def vector_id(path: str, sha: str, embed_hash: str, n: int = 0) -> str:
    """The content-derived id of one chunk vector (``n``: repeats within the file)."""
    raw = f"{path}\0{sha}\0{embed_hash}\0{n}".encode()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def collection_name(space: str, namespace: str = "") -> str:
    """A Chroma collection name for ``space`` (and a repository ``namespace``)."""
    digest = hashlib.sha1(f"{namespace}\0{space}".encode()).hexdigest()
    return ("repo-" + digest[:24]) if namespace else ("chunks-" + digest[:16])


def _settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


class VectorStore:
    """Chunk vectors with ``path``, ``sha`` (file hash) and ``hash`` (embedded text) metadata.

    Use :meth:`local` or :meth:`shared` to make one.

    Args:
        client: A Chroma client.
        name: The collection's name.
        metadata: The collection's metadata (on creation).
        shared: Other developers write to this collection too (nothing is deleted).
        resolver: Maps ``(path, sha, hash)`` keys to this index's chunk ids.
        where: What it is, for messages.

    Raises:
        IndexError_: The store cannot be opened (damaged folder, server unreachable).
    """

    def __init__(self, client: Any, name: str, metadata: dict[str, Any], *, shared: bool,
                 resolver: Resolver, where: str) -> None:
        self._client = client
        self.shared = shared
        self.resolver = resolver
        self.where = where
        # Since opened: vectors written, found already stored, fetched instead of embedded.
        self.counters = {"added": 0, "already_stored": 0, "fetched": 0}
        try:
            self._collection = client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
                metadata=metadata,
            )
            self._collection.count()
        except Exception as exc:  # Chroma raises many types for a damaged or absent store
            self.close()
            raise IndexError_(
                f"The vector store at {where} cannot be opened ({exc}).",
                hint=REBUILD_HINT if not shared else
                "Check that the Chroma server is running (`chroma run`), or clear "
                "the chroma_url setting.",
            ) from exc

    @classmethod
    def local(cls, folder: Path, space: str, resolver: Resolver) -> VectorStore:
        """A store in ``folder`` (a ``PersistentClient``)."""
        import chromadb

        try:
            client = chromadb.PersistentClient(path=str(folder), settings=_settings())
        except Exception as exc:
            raise IndexError_(
                f"The vector store at {folder} cannot be opened ({exc}).", hint=REBUILD_HINT
            ) from exc
        return cls(client, collection_name(space), {"space": space}, shared=False,
                   resolver=resolver, where=str(folder))

    @classmethod
    def shared_store(cls, url: str, namespace: str, space: str, resolver: Resolver,
                     allowed_hosts: Sequence[str] = ()) -> VectorStore:
        """A store on the Chroma server at ``url``, namespaced by repository identity.

        Raises:
            PrivacyError: The server is neither loopback nor allow-listed.
            IndexError_: The server cannot be reached.
        """
        import chromadb

        from greenpair.core.privacy import check_host

        check_host(url, allowed_hosts)
        parts = urlsplit(url if "://" in url else f"http://{url}")
        ssl = parts.scheme == "https"
        port = parts.port or (443 if ssl else 8000)
        try:
            client = chromadb.HttpClient(host=parts.hostname or "127.0.0.1", port=port,
                                         ssl=ssl, settings=_settings())
        except Exception as exc:
            raise IndexError_(
                f"Cannot reach the Chroma server at {url} ({exc}).",
                hint="Start it (`chroma run --path DIR --port 8000`) or clear the "
                     "chroma_url setting.",
            ) from exc
        meta = {"space": space, "repository": namespace, "ids": "content"}
        return cls(client, collection_name(space, namespace), meta, shared=True,
                   resolver=resolver, where=url)

    def close(self) -> None:
        """Release the client (the last one of a path stops Chroma's system)."""
        if self._client is not None:
            close = getattr(self._client, "close", None)
            try:
                if callable(close):
                    close()
            except Exception:  # closing a damaged store may fail; it is being dropped
                log.debug("closing the vector store failed", exc_info=True)
            self._client = None

    def count(self) -> int:
        """Number of stored vectors (all developers' in a shared collection)."""
        return int(self._collection.count())

    def add(self, path: str, sha: str, hashes: Sequence[str], vectors: np.ndarray) -> int:
        """Store one file's chunk vectors; returns how many were new.

        Vectors already stored under the same content id are left alone (in a shared
        collection, another developer wrote them for the same file content).
        """
        if not hashes:
            return 0
        seen: Counter[str] = Counter()
        ids = []
        for h in hashes:
            ids.append(vector_id(path, sha, h, seen[h]))
            seen[h] += 1
        present = self._existing(ids)
        todo = [i for i, vid in enumerate(ids) if vid not in present]
        self.counters["already_stored"] += len(ids) - len(todo)
        self.counters["added"] += len(todo)
        if not todo:
            return 0
        matrix = np.asarray(vectors, dtype=np.float32)
        self._collection.upsert(
            ids=[ids[i] for i in todo],
            embeddings=matrix[todo],
            metadatas=[{"path": path, "sha": sha, "hash": hashes[i]} for i in todo],
        )
        return len(todo)

    def _existing(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        if self.count() == 0:
            return found
        for i in range(0, len(ids), _GET_BATCH):
            try:
                got = self._collection.get(ids=list(ids[i : i + _GET_BATCH]), include=[])
            except Exception as exc:  # noqa: BLE001 - an upsert of the same ids is harmless
                log.debug("cannot read stored ids (%s); writing them again", exc)
                return found
            found.update(got.get("ids") or [])
        return found

    def known(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors already stored for these embedded-text hashes (shared stores only:
        locally the index's own cache has them)."""
        if not self.shared or not hashes or self.count() == 0:
            return {}
        out: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for i in range(0, len(unique), _GET_BATCH):
            try:
                got: Any = self._collection.get(
                    where={"hash": {"$in": unique[i : i + _GET_BATCH]}},
                    include=["embeddings", "metadatas"],
                )
            except Exception as exc:  # noqa: BLE001 - reuse is an optimisation: embed instead
                # A collection another client has only just started writing can fail to
                # read ("Error creating hnsw segment reader: Nothing found on disk",
                # chroma-core/chroma#4212).
                log.debug("cannot read shared vectors yet (%s); embedding locally", exc)
                break
            embeddings = got.get("embeddings")
            for meta, vec in zip(got.get("metadatas") or [],
                                 [] if embeddings is None else embeddings, strict=False):
                if meta and "hash" in meta:
                    out.setdefault(str(meta["hash"]), np.asarray(vec, dtype=np.float32))
        self.counters["fetched"] += len(out)
        return out

    def delete_path(self, path: str) -> None:
        """Remove every vector of ``path`` (a shared collection is never deleted from)."""
        if self.shared:
            return
        self._collection.delete(where={"path": path})

    def all_vectors(self) -> tuple[list[Any], list[dict[str, Any]]]:
        """Every stored vector with its metadata (``path``, ``sha``): benchmarks, exports."""
        got: Any = self._collection.get(include=["embeddings", "metadatas"])
        return list(got["embeddings"]), list(got["metadatas"])

    def paths(self) -> set[str]:
        """Every path that has vectors (for consistency checks)."""
        got = self._collection.get(include=["metadatas"])
        return {str(m["path"]) for m in got.get("metadatas") or [] if m}

    def query(self, vector: np.ndarray, n: int) -> list[tuple[int, str, str, float]]:
        """Nearest chunks of this index: ``(chunk_id, path, sha, cosine)``, best first."""
        total = self.count()
        if total == 0:
            return []
        result: Any = self._collection.query(
            query_embeddings=np.asarray(vector, dtype=np.float32).reshape(1, -1),
            n_results=min(n, total),
            include=["metadatas", "distances"],
        )
        hits: list[tuple[Key, float]] = []
        for meta, dist in zip(result["metadatas"][0], result["distances"][0], strict=True):
            key = (str(meta["path"]), str(meta["sha"]), str(meta.get("hash", "")))
            hits.append((key, 1.0 - float(dist)))
        ids = self.resolver([k for k, _ in hits])
        out = []
        for key, cosine in hits:
            for cid in ids.get(key, []):
                out.append((cid, key[0], key[1], cosine))
        return out
