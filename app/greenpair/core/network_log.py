"""The audit log of Greenpair's own network use: every model pull, where it went, how it ended.

Greenpair opens connections on purpose in one place besides a remote model the user names:
``greenpair models pull`` (and the window's Download button). Each pull appends one JSON
line to ``network-log.jsonl`` in the data directory when it starts and one when it ends,
so a user or a security reviewer can see what was fetched from where, and when.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from greenpair.core.config import data_dir

LOG_NAME = "network-log.jsonl"


def log_path() -> Path:
    """The log file (in the data directory; ``GREENPAIR_HOME`` moves it)."""
    return data_dir() / LOG_NAME


def record(event: str, **fields: object) -> None:
    """Append one entry: ``event`` (``pull started``, ``pull done``, ``pull failed``)."""
    entry = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "event": event, **fields}
    with log_path().open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, sort_keys=True) + "\n")


def read_log() -> list[dict[str, object]]:
    """Every entry, oldest first (an unreadable line is skipped)."""
    try:
        lines = log_path().read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries
