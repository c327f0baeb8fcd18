"""Write patches to the working tree and undo them, byte for byte.

Before a patch is written, the original bytes of every touched file are saved under the
data directory (never in the repository), with a manifest of sha256 sums taken before and
after. ``undo_last`` restores the most recent patch that is not undone yet, and refuses if
any of its files changed since (undoing would lose those edits). Nothing is committed.

Crash safety: each file is replaced atomically (a temporary file beside it, fsynced, then
``os.replace``), and the manifest is complete before the first file is touched. A process
killed in the middle of an apply (``kill -9``) leaves every file either old or new, and
``undo_last`` restores the new ones (a file still old is left as it is). A write that fails
(read-only repository, full disk) puts back the files already written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from greenpair.core.assistant.patch.editing import FileChange
from greenpair.core.assistant.patch.guard import check_editable
from greenpair.core.config import data_dir, repo_key
from greenpair.core.errors import PatchError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
UNDONE = "undone"
KEEP_BACKUPS = 50


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


TMP_SUFFIX = ".greenpair-tmp"


def backups_dir(repo: Path) -> Path:
    """Where the backups of ``repo``'s applied patches are kept.

    Raises:
        PatchError: The data directory cannot be written (read-only, full).
    """
    path = data_dir() / "patches" / repo_key(repo)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _data_dir_error(path, exc) from exc
    return path


def _data_dir_error(path: Path, exc: OSError) -> PatchError:
    return PatchError(
        f"Cannot save the backup of the patch in {path}: {exc.strerror or exc}. "
        "Nothing was changed in the repository.",
        hint="Free some space or make the data directory writable "
        "(set GREENPAIR_HOME to move it).",
    )


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _tmp_of(path: Path) -> Path:
    return path.with_name(f".{path.name}{TMP_SUFFIX}")


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` in one step: a reader (or a crash) sees the old
    bytes or the new ones, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    tmp = _tmp_of(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _remove_stale_tmp(targets: Sequence[Path]) -> None:
    """Temporary files a killed apply left beside its targets."""
    for target in targets:
        with contextlib.suppress(OSError):
            _tmp_of(target).unlink()


def _write_files(targets: Sequence[Path], contents: Sequence[bytes | None],
                 originals: Sequence[bytes | None]) -> None:
    """Write (or delete, for ``None``) each target; on failure put back those done.

    Raises:
        PatchError: A file could not be written (read-only, full disk); the files
            already written hold their ``originals`` again.
    """
    done: list[int] = []
    try:
        for i, (target, data) in enumerate(zip(targets, contents, strict=True)):
            if data is not None:
                _write_atomic(target, data)
            elif target.exists():
                target.unlink()
            done.append(i)
    except OSError as exc:
        for i in reversed(done):
            with contextlib.suppress(OSError):
                original = originals[i]
                if original is None:
                    targets[i].unlink()
                else:
                    _write_atomic(targets[i], original)
        raise PatchError(
            f"Cannot write {targets[len(done)]}: {exc.strerror or exc}. "
            "The files already written were put back; the repository is as it was.",
            hint="Make the repository writable (or free some space) and try again.",
        ) from exc


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
    entries = []
    try:
        (folder / "files").mkdir(parents=True)
        for i, change in enumerate(changes):
            if change.before is not None:
                _write_atomic(folder / "files" / f"{i}.orig", change.before)
            entries.append({"path": change.path, "existed": change.before is not None,
                            "before_sha256": _sha(change.before),
                            "after_sha256": _sha(change.after)})
        manifest = {"repo": str(Path(repo).resolve()), "label": label, "created": time.time(),
                    "files": entries}
        # Complete on disk before the first file changes: undo can always find it.
        _write_atomic(folder / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise _data_dir_error(folder, exc) from exc
    _remove_stale_tmp(targets)
    try:
        _write_files(targets, [c.after for c in changes], [c.before for c in changes])
    except PatchError:
        with contextlib.suppress(OSError):
            (folder / UNDONE).write_text("not applied", encoding="utf-8")
        raise
    _prune(backups_dir(repo))
    return folder


def _pending(repo: Path) -> list[Path]:
    """Backups not undone yet, newest last."""
    root = backups_dir(repo)
    return sorted(p for p in root.iterdir()
                  if (p / MANIFEST).is_file() and not (p / UNDONE).exists())


def _manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
            raise ValueError("no file list")
        return manifest
    except (OSError, ValueError) as exc:
        raise PatchError(
            f"The backup in {folder} is damaged ({exc}); cannot undo that patch.",
            hint="Restore the files with git, then delete that folder.",
        ) from exc


def _prune(root: Path) -> None:
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
    entries = _manifest(folder)["files"]
    targets = [check_editable(repo, e["path"]) for e in entries]
    current = [_sha(_read(t)) for t in targets]
    # A file still at its old content was not reached by an interrupted apply: fine.
    changed = [e["path"] for e, sha in zip(entries, current, strict=True)
               if sha not in (e["after_sha256"], e["before_sha256"])]
    if changed:
        raise PatchError(
            "Cannot undo: " + ", ".join(changed) + " changed since the patch was applied. "
            "Nothing was restored.",
            hint="Undoing now would lose those edits; revert them by hand (or with git).",
        )
    originals: list[bytes | None] = []
    for i, entry in enumerate(entries):
        data = _read(folder / "files" / f"{i}.orig") if entry["existed"] else None
        if _sha(data) != entry["before_sha256"]:
            raise PatchError(f"The backup of {entry['path']} is damaged ({folder}).")
        originals.append(data)
    todo = [i for i, (e, sha) in enumerate(zip(entries, current, strict=True))
            if sha != e["before_sha256"]]
    _remove_stale_tmp(targets)
    _write_files([targets[i] for i in todo], [originals[i] for i in todo],
                 [_read(targets[i]) for i in todo])
    (folder / UNDONE).write_text(str(time.time()), encoding="utf-8")
    return [e["path"] for e in entries]
