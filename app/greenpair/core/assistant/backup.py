"""Write patches to the working tree and undo them, byte for byte.

Before a patch is written, the original bytes of every touched file are saved under the
data directory (never in the repository), with a manifest of sha256 sums taken before and
after. ``undo_last`` restores the most recent patch that is not undone yet, and refuses if
any of its files changed since (undoing would lose those edits). Nothing is committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from greenpair.core.assistant.editing import FileChange
from greenpair.core.assistant.guard import check_editable
from greenpair.core.config import data_dir, repo_key
from greenpair.core.errors import PatchError

MANIFEST = "manifest.json"
UNDONE = "undone"
KEEP_BACKUPS = 50


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def backups_dir(repo: Path) -> Path:
    """Where the backups of ``repo``'s applied patches are kept."""
    path = data_dir() / "patches" / repo_key(repo)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    tmp = path.with_name(f".{path.name}.greenpair-tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, path)


def apply_changes(repo: Path, changes: Sequence[FileChange], *, label: str = "") -> Path:
    """Write ``changes`` into ``repo`` after saving the originals.

    Returns:
        The backup folder of this patch.

    Raises:
        PatchError: A path is refused, or a file changed since the patch was drafted.
    """
    targets = [check_editable(repo, c.path) for c in changes]
    for change, target in zip(changes, targets, strict=True):
        if _read(target) != change.before:
            raise PatchError(
                f"{change.path} changed since the patch was drafted.",
                hint="Draft the patch again so that it applies to the current code.",
            )
    folder = backups_dir(repo) / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}"
    (folder / "files").mkdir(parents=True)
    entries = []
    for i, change in enumerate(changes):
        if change.before is not None:
            (folder / "files" / f"{i}.orig").write_bytes(change.before)
        entries.append({"path": change.path, "existed": change.before is not None,
                        "before_sha256": _sha(change.before),
                        "after_sha256": _sha(change.after)})
    manifest = {"repo": str(Path(repo).resolve()), "label": label, "created": time.time(),
                "files": entries}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    for change, target in zip(changes, targets, strict=True):
        _write_atomic(target, change.after)
    _prune(backups_dir(repo))
    return folder


def _pending(repo: Path) -> list[Path]:
    """Backups not undone yet, newest last."""
    root = backups_dir(repo)
    return sorted(p for p in root.iterdir()
                  if (p / MANIFEST).is_file() and not (p / UNDONE).exists())


def _prune(root: Path) -> None:
    import shutil

    folders = sorted(p for p in root.iterdir() if (p / MANIFEST).is_file())
    for old in folders[:-KEEP_BACKUPS]:
        shutil.rmtree(old, ignore_errors=True)


def undo_last(repo: Path) -> list[str]:
    """Restore the files of the last applied patch, byte for byte.

    Returns:
        The restored paths.

    Raises:
        PatchError: Nothing to undo, or a file changed since the patch was applied.
    """
    pending = _pending(repo)
    if not pending:
        raise PatchError("There is no applied patch to undo in this repository.")
    folder = pending[-1]
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    entries = manifest["files"]
    targets = [check_editable(repo, e["path"]) for e in entries]
    changed = [e["path"] for e, t in zip(entries, targets, strict=True)
               if _sha(_read(t)) != e["after_sha256"]]
    if changed:
        raise PatchError(
            "Cannot undo: " + ", ".join(changed) + " changed since the patch was applied.",
            hint="Undoing now would lose those edits; revert them by hand (or with git).",
        )
    originals: list[bytes | None] = []
    for i, entry in enumerate(entries):
        data = (folder / "files" / f"{i}.orig").read_bytes() if entry["existed"] else None
        if _sha(data) != entry["before_sha256"]:
            raise PatchError(f"The backup of {entry['path']} is damaged ({folder}).")
        originals.append(data)
    for data, target in zip(originals, targets, strict=True):
        if data is not None:
            _write_atomic(target, data)
        elif target.exists():
            target.unlink()
    (folder / UNDONE).write_text(str(time.time()), encoding="utf-8")
    return [e["path"] for e in entries]
