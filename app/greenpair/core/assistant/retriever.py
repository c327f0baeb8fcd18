"""Where the assistant gets its model and its retrieved code.

Both are passed in: the entry point's ``Services`` gives the runtime and the repository's
index, tests and benchmarks a ``FakeRuntime`` or a fixed set of chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from greenpair.core.errors import RepositoryError
from greenpair.core.types import ScoredChunk, SearchResult

if TYPE_CHECKING:
    from greenpair.core.config import Settings
    from greenpair.core.llm.runtime import Runtime


@runtime_checkable
class Retriever(Protocol):
    """Anything that ranks code for a query (``RepoIndex`` is one)."""

    def search(self, query: str, k: int = 10) -> SearchResult:
        """The best ``k`` chunks and files for ``query``."""
        ...


class StaticRetriever:
    """A retriever that always returns the same chunks (tests, benchmarks with oracle context)."""

    def __init__(self, chunks: Sequence[ScoredChunk]) -> None:
        self.chunks = list(chunks)
        self.queries: list[str] = []

    def search(self, query: str, k: int = 10) -> SearchResult:
        """The fixed chunks, first ``k``."""
        self.queries.append(query)
        chosen = self.chunks[:k]
        files = list(dict.fromkeys(sc.chunk.path for sc in chosen))
        return SearchResult(query=query, files=files, chunks=chosen)


def check_repo(repo: Path) -> Path:
    """The resolved repository directory.

    Raises:
        RepositoryError: It does not exist or is not a directory.
    """
    path = Path(repo).expanduser()
    if not path.exists():
        raise RepositoryError(
            f"The repository {path} does not exist.", hint="Pass an existing folder with --repo."
        )
    if not path.is_dir():
        raise RepositoryError(
            f"{path} is not a folder.", hint="Pass the repository's root folder with --repo."
        )
    return path.resolve()


def open_model(model: str | Path, settings: Settings | None = None) -> Runtime:
    """A runtime for an explicitly chosen model id or GGUF path (not the services' one).

    It follows ``settings``' unload rule (idle time, battery) like the services' runtime
    (the built-in defaults when None).
    """
    from greenpair.core.config import Settings as Defaults
    from greenpair.core.llm.manager import open_runtime, unload_options

    return open_runtime(model, **unload_options(settings if settings is not None else Defaults()))


def reset_cache(runtime: Runtime) -> bool:
    """Drop the runtime's KV prefix cache if it can (the naive, no-reuse configuration).

    Returns:
        Whether the runtime offered a way to do it.
    """
    for name in ("reset_cache", "clear_cache", "reset"):
        method = getattr(runtime, name, None)
        if callable(method):
            method()
            return True
    # LlamaRuntime: its loaded ``llama_cpp.Llama`` forgets its evaluated tokens on reset(),
    # so the next prompt is evaluated from the first token.
    load = getattr(runtime, "load", None)
    llm = load() if callable(load) else None
    reset = getattr(llm, "reset", None)
    if callable(reset):
        reset()
        return True
    return False
