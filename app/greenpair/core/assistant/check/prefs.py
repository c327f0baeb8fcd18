"""Per-repository check preferences: whether the user allowed checks, and their own
test command. Kept in the data directory (``checks/<repo key>.json``), never in the
repository.

Running tests runs the repository's code and the model's change, so the user is asked
once per repository; the answer is remembered here.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from greenpair.core.config import data_dir, repo_key
from greenpair.core.errors import ConfigError

REPO_KEYS = ("test_command", "check")


@dataclass
class RepoCheckPrefs:
    """What the user said about checks in one repository.

    Attributes:
        allowed: True: run checks; False: never; None: not asked yet.
        test_command: Their own test command ("" finds the nearest tests).
    """

    allowed: bool | None = None
    test_command: str = ""


def _path(repo: Path) -> Path:
    return data_dir() / "checks" / f"{repo_key(repo)}.json"


def load_prefs(repo: Path) -> RepoCheckPrefs:
    """The repository's preferences (defaults when none or unreadable)."""
    try:
        raw = json.loads(_path(repo).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return RepoCheckPrefs()
    allowed = raw.get("allowed") if isinstance(raw, dict) else None
    command = raw.get("test_command", "") if isinstance(raw, dict) else ""
    return RepoCheckPrefs(allowed if isinstance(allowed, bool) else None,
                          command if isinstance(command, str) else "")


def save_prefs(repo: Path, prefs: RepoCheckPrefs) -> None:
    """Store the repository's preferences.

    Raises:
        ConfigError: The data directory cannot be written.
    """
    path = _path(repo)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(prefs), indent=2), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"Cannot save the check preferences in {path}: {exc}.",
                          hint="Make the data directory writable.") from exc


def set_repo_value(repo: Path, key: str, text: str) -> RepoCheckPrefs:
    """``greenpair config set --repo R KEY VALUE`` for the per-repository keys.

    Raises:
        ConfigError: Unknown key or value.
    """
    prefs = load_prefs(repo)
    if key == "test_command":
        prefs.test_command = text.strip()
    elif key == "check":
        low = text.strip().lower()
        if low not in {"yes", "no", "true", "false", "on", "off", "1", "0", "ask"}:
            raise ConfigError(f"{text!r} is not a value for check.",
                              hint="Use yes, no or ask.")
        prefs.allowed = None if low == "ask" else low in {"yes", "true", "on", "1"}
    else:
        raise ConfigError(f"{key!r} is not a per-repository setting.",
                          hint="Per-repository: " + ", ".join(REPO_KEYS))
    save_prefs(repo, prefs)
    return prefs
