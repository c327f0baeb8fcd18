"""What the server holds: one model, one embedder, one meter, several repositories.

They come from the process's composition root (``greenpair.core.services.Services``,
built once by ``greenpair serve``): each repository's index gets the server's meter and
embedder, each answer the server's runtime and meter.

This ``Services`` is built once by ``greenpair serve`` and passed to ``create_app``; every
request borrows from it. Each served repository has one ``RepoIndex``, opened on first
use and kept for later requests (its searches are thread-safe). A request names its
repository by folder name or path; only repositories the server was started with are
served, so a client cannot make the server read an arbitrary folder.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenpair.core.errors import GreenpairError

if TYPE_CHECKING:
    from greenpair.core.assistant.retriever import Retriever
    from greenpair.core.config import Settings
    from greenpair.core.energy.meter_protocol import EnergyMeter
    from greenpair.core.index.embedder import Embedder
    from greenpair.core.llm.runtime import Runtime
    from greenpair.core.services import Embedders


class UnknownRepository(GreenpairError):
    """A request named a repository this server does not serve."""


@dataclass
class Limits:
    """Queue sizes and request caps."""

    generate_slots: int = 1  # one model, one generation at a time
    generate_waiting: int = 8
    search_slots: int = 2
    search_waiting: int = 32
    max_tokens: int = 512  # cap on a request's max_tokens
    max_embed_inputs: int = 256


@dataclass
class Services:
    """The objects every request shares.

    Args:
        repos: The repositories served; the first is the default.
        runtime: The model (loaded lazily by the runtime itself).
        meter: The energy meter (windows per request, written to the ledger).
        settings: Settings for opening indexes.
        embedder: Embedding model for ``/v1/embeddings`` (default: from ``embedders``).
        embedders: The process's embedders (``core.services.Embedders``; default: load one).
        retrievers: Ready retrievers by repository path (tests; default: ``open_index``).
        limits: Queue sizes and caps.
        remote_energy: The runtime runs elsewhere: energy is this machine's only.
    """

    repos: Sequence[Path]
    runtime: Runtime
    meter: EnergyMeter
    settings: Settings | None = None
    embedder: Embedder | None = None
    embedders: Embedders | None = None
    retrievers: dict[Path, Retriever] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    remote_energy: bool = False
    _lock: Any = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        self.repos = [Path(r).expanduser().resolve() for r in self.repos]
        if not self.repos:
            raise GreenpairError("Serve at least one repository (--repo PATH).")

    @property
    def model_id(self) -> str:
        """The served model's id."""
        return str(getattr(self.runtime, "model_id", "greenpair"))

    def resolve_repo(self, name: str | None) -> Path:
        """The served repository named by folder name or path (default: the first).

        Raises:
            UnknownRepository: No served repository has that name or path.
        """
        if not name:
            return self.repos[0]
        for repo in self.repos:
            if name in {repo.name, str(repo)}:
                return repo
        try:
            wanted = Path(name).expanduser().resolve()
        except (OSError, RuntimeError):
            wanted = None
        for repo in self.repos:
            if repo == wanted:
                return repo
        served = ", ".join(r.name for r in self.repos)
        raise UnknownRepository(
            f"This server does not serve the repository {name!r}.",
            hint=f"Served: {served}. Start the server with --repo for each repository.",
        )

    def retriever(self, repo: Path) -> Retriever:
        """The repository's index, opened on first use and kept."""
        with self._lock:
            found = self.retrievers.get(repo)
            if found is None:
                from greenpair.core.index import open_index

                found = open_index(repo, self.settings, meter=self.meter,
                                   embedder=self.embedding_model())
                self.retrievers[repo] = found
            return found

    def embedding_model(self) -> Embedder:
        """The embedder of ``/v1/embeddings`` (the index's own, loaded once)."""
        with self._lock:
            if self.embedder is None:
                from greenpair.core.index import embedder as embedder_mod

                model = self.settings.embedder_model if self.settings is not None else ""
                self.embedder = self.embedders.get(model=model) \
                    if self.embedders is not None else embedder_mod.load_embedder(model=model)
            return self.embedder

    def close(self) -> None:
        """Release the indexes and the model."""
        with self._lock:
            for index in self.retrievers.values():
                close: Any = getattr(index, "close", None)
                if callable(close):
                    close()
            self.retrievers.clear()
        self.runtime.unload()
