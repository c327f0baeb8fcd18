"""The MCP resources: a repository's index status and its map.

The map lists the indexed files by folder with the definitions the chunker found in
each (``kind symbol:line``), cut at whole lines to ``MAP_CHARS`` so an agent can read it in
one go and then ask ``search_code``/``read_span`` for the detail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from greenpair.core.llm.runtime import Runtime

MAP_CHARS = 24_000
MAX_SYMBOLS_PER_FILE = 12
_DEFINITIONS = frozenset({"function", "method", "class", "interface", "impl", "struct",
                          "enum", "trait", "type", "module"})


def repository_map(index: Any, name: str, limit: int = MAP_CHARS) -> str:
    """The map of one repository's index (text, ``limit`` characters at most)."""
    lex = index.lexical()
    paths = sorted(lex.paths)
    lines = [f"# {name}: {len(paths)} indexed files"]
    folder = None
    for path in paths:
        parent, _, base = path.rpartition("/")
        if parent != folder:
            folder = parent
            lines.append(f"{parent or '.'}/")
        chunks: list[Any] = index.file_chunks(path)
        names = [f"{c.kind} {c.symbol}:{c.start_line}" for c in chunks
                 if c.symbol and c.kind in _DEFINITIONS and not c.parent]
        extra = f" (+{len(names) - MAX_SYMBOLS_PER_FILE})" if len(names) > MAX_SYMBOLS_PER_FILE \
            else ""
        shown = ", ".join(names[:MAX_SYMBOLS_PER_FILE])
        lines.append(f"  {base}" + (f": {shown}{extra}" if shown else ""))
    out: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > limit:
            out.append(f"… cut at {limit:,} characters; use search_code for the rest.")
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def model_status(runtime: Runtime) -> dict[str, Any]:
    """Whether the model is in memory, and its idle-unload rule."""
    loaded = getattr(runtime, "loaded", None)
    return {"model": runtime.model_id,
            "loaded": loaded if isinstance(loaded, bool) else None,
            "unload_after_idle_s": getattr(runtime, "unload_after_idle_s", None)}


def index_status(index: Any, repo: Path, runtime: Runtime) -> dict[str, Any]:
    """The index's figures (files, chunks, embedded, skipped, last update) and the model."""
    stats: Callable[[], dict[str, Any]] | None = getattr(index, "stats", None)
    figures = stats() if callable(stats) else {}
    figures.pop("generated", None)  # a long list; the counts are in "skipped"
    built = getattr(index, "is_built", None)
    return {"repo": repo.name, "path": str(repo),
            "built": built() if callable(built) else None, **figures,
            "model": model_status(runtime)}
