"""What search reads from an index: a narrow protocol, so no signal reaches back into
``RepoIndex`` (the index calls search; search never imports the index)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from greenpair.core.index.embedder import Embedder
    from greenpair.core.index.lexical import LexicalModel


class IndexReader(Protocol):
    """The read side of a repository's index (``RepoIndex`` is one)."""

    def lexical(self) -> LexicalModel:
        """The in-memory BM25 model of the current snapshot."""
        ...

    def chunk_texts(self, ids: list[int]) -> dict[int, str]:
        """The texts of the chunks with these ids."""
        ...

    def has_embedded(self) -> bool:
        """Whether committed files have vectors (dense search has something to find)."""
        ...

    def committed_shas(self, paths: list[str]) -> dict[str, str]:
        """The content hash of each of ``paths`` that is committed (current) in the index."""
        ...

    def embedder(self) -> Embedder:
        """The embedding model of the stored vectors."""
        ...

    def vectors(self) -> Any:
        """The vector store (``query(vector, n)``)."""
        ...

    def git_log(self) -> Any:
        """The repository's git history for search, or None."""
        ...
