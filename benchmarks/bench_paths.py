"""Where the benchmarks find the shared dev sets and their corpora, from any checkout.

``../shared/`` sits beside the repository (a worktree one level deeper looks one level
up). The corpora live in the repository's ``.cache/corpora`` (git-ignored), fetched once
with ``../shared/bench/get-corpora.sh`` when one is missing; ``GREENPAIR_CORPORA`` points
elsewhere.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p / "shared" for p in (ROOT.parent, ROOT.parent.parent)
               if (p / "shared" / "bench").is_dir()), ROOT.parent / "shared")
BENCH = SHARED / "bench" / "localization"
CORPORA = Path(os.environ.get("GREENPAIR_CORPORA") or ROOT / ".cache" / "corpora")


def corpus(name: str, folder: Path = CORPORA) -> Path:
    """The corpus ``name`` (e.g. ``pytest-9.0.2``), fetched with the shared script if missing."""
    path = folder / name
    if not path.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["bash", str(SHARED / "bench" / "get-corpora.sh"), str(folder)],
                       check=True, stdout=subprocess.DEVNULL)
    return path
