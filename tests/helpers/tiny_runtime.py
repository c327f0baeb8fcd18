"""The tiny model opened so that its replies repeat, for tests that assert on them."""

from __future__ import annotations

from pathlib import Path

from greenpair.core.llm.manager import open_runtime
from greenpair.core.llm.runtime import Runtime


def repeatable_runtime(path: Path, n_ctx: int) -> Runtime:
    """``path``'s model with seed 0 and 2 threads: on a loaded machine the thread policy
    picks fewer threads, which changes the arithmetic and so the sampled reply."""
    return open_runtime(path, n_ctx=n_ctx, n_threads=2, seed=0)
