"""Plain data records shared by the index, retrieval, assistant and the clients."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Chunk:
    """A span of one file that is indexed and retrieved as a unit.

    Lines are 1-based and inclusive. ``symbol`` is the definition's name (``None`` for
    line windows), ``kind`` is e.g. ``function``, ``method``, ``class``, ``interface``,
    ``impl``, ``module`` or ``text``; ``parent`` is the enclosing symbol (a class for a
    method). ``signature`` is the definition's first line(s), used as context when the
    body is split.
    """

    path: str  # repository-relative, POSIX separators
    language: str
    start_line: int
    end_line: int
    text: str
    kind: str = "text"
    symbol: str | None = None
    parent: str | None = None
    signature: str | None = None

    @property
    def chunk_id(self) -> str:
        """A stable id within the index."""
        return f"{self.path}:{self.start_line}-{self.end_line}"


@dataclass(frozen=True)
class ScoredChunk:
    """A retrieved chunk with its fused score."""

    chunk: Chunk
    score: float


@dataclass
class SearchResult:
    """Files ranked best first, and the supporting chunks."""

    query: str
    files: list[str]
    chunks: list[ScoredChunk] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The CLI's JSON contract for ``greenpair search --json``."""
        return {
            "query": self.query,
            "files": self.files,
            "chunks": [
                {
                    "path": sc.chunk.path,
                    "start_line": sc.chunk.start_line,
                    "end_line": sc.chunk.end_line,
                    "symbol": sc.chunk.symbol,
                    "kind": sc.chunk.kind,
                    "score": round(sc.score, 6),
                }
                for sc in self.chunks
            ],
        }


@dataclass(frozen=True)
class IndexProgress:
    """One progress event of an index run.

    ``phase`` is ``scan``, ``lexical``, ``embed``, ``cleanup`` or ``done``. ``eta_s`` is
    ``None`` while unknown.
    """

    phase: str
    files_done: int = 0
    files_total: int = 0
    chunks_done: int = 0
    chunks_total: int = 0
    eta_s: float | None = None
    message: str = ""
