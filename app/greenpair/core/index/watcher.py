"""Keep an index fresh while files are edited.

A watchdog observer (inotify on Linux, FSEvents on macOS, ReadDirectoryChangesW on
Windows: no polling) reports changes; writes to ignored or secret files and ``.git``
internals are dropped at once. A worker thread sleeps on an event until something relevant
changed, waits for a quiet spell (editors save in bursts), then runs the incremental update
on the changed paths only (a changed folder is walked again whole, a changed ``.gitignore``
its folder), which re-indexes only files whose content hash changed. Idle, both threads
are blocked: ~0 % CPU.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenpair.core.index.repo_index import RepoIndex, check_repo, open_index

log = logging.getLogger(__name__)

DEBOUNCE_S = 0.3


@dataclass(frozen=True)
class WatchEvent:
    """One refresh of the index: the changed paths, and the outcome."""

    paths: tuple[str, ...]
    files_changed: int = 0
    duration_s: float = 0.0
    error: str | None = None
    progress: list[Any] = field(default_factory=list, compare=False, repr=False)


BATTERY_RECHECK_S = 60.0


class Watcher:
    """Watches a repository and updates its index. Use :func:`watch` to make one.

    Args:
        index: The index to keep fresh.
        on_event: Called (in the worker thread) after each refresh.
        debounce_s: Quiet time after the last change before re-indexing.
        embed: Whether refreshes also embed (dense vectors); lexical is always updated.
        power_root: The power_supply directory read to pause on battery (tests pass a
            recorded tree). While the laptop runs on battery and the settings ask for it,
            changes are kept and re-indexed once it is plugged in again.
    """

    def __init__(
        self,
        index: RepoIndex,
        on_event: Callable[[WatchEvent], None] | None = None,
        *,
        debounce_s: float = DEBOUNCE_S,
        embed: bool = True,
        power_root: Path | None = None,
    ) -> None:
        from greenpair.core.repo.walker import IgnoreRules

        self.index = index
        self.repo = index.repo
        self._on_event = on_event
        self._debounce_s = debounce_s
        self._embed = embed
        self._power_root = power_root
        self._rules = IgnoreRules(self.repo)
        self._pending: set[str] = set()
        self._pending_lock = threading.Lock()
        self._last_change = 0.0
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._observer: Any = None
        self._worker: threading.Thread | None = None
        self._walk_all = False  # after a failed refresh, the next one scans everything

    # -- filesystem events (observer thread) ---------------------------------------
    def _relevant(self, abs_path: str, structural: bool = False) -> str | None:
        """The repository path of a change worth a refresh, or None.

        Writes to secret or ignored files never wake the worker. A secret or ignored
        entry that appears, disappears or moves (``structural``) is kept when its folder
        is walked, so the list of skipped files stays the one a full walk makes; it is
        never read.
        """
        from greenpair.core.repo.walker import is_secret_path

        try:
            path = Path(abs_path)  # a link is a change of its own path, not its target's
            rel = (path.parent.resolve() / path.name).relative_to(self.repo).as_posix()
        except ValueError:
            return None
        if rel in ("", ".") or rel == ".git" or rel.startswith(".git/"):
            return None
        parent, _, name = rel.rpartition("/")
        if name in {".gitignore", ".greenpairignore"}:
            from greenpair.core.repo.walker import IgnoreRules

            self._rules = IgnoreRules(self.repo)  # the rules themselves changed
            return rel
        try:
            if not is_secret_path(rel) and not self._rules.is_ignored(rel):
                return rel
            if structural and not (parent and self._rules.is_ignored(parent, is_dir=True)):
                return rel
        except OSError:
            return rel  # vanished while we looked: a deletion, which matters
        return None

    def _on_fs_event(self, event: Any) -> None:
        structural = event.event_type in {"created", "deleted", "moved"}
        paths = [event.src_path, getattr(event, "dest_path", None)]
        relevant = [
            r for p in paths if p for r in [self._relevant(str(p), structural)] if r is not None
        ]
        if not relevant:
            return
        with self._pending_lock:
            self._pending.update(relevant)
            self._last_change = time.monotonic()
        self._wake.set()

    # -- worker ------------------------------------------------------------------
    def _run(self) -> None:
        if self._embed:
            try:  # load the model now, so the first save is re-indexed quickly
                self.index.embedder()
            except Exception:  # the refresh will report it
                log.debug("preloading the embedder failed", exc_info=True)
        while not self._stopping.is_set():
            self._wake.wait()  # blocks: no polling while nothing changes
            if self._stopping.is_set():
                return
            while True:  # debounce: wait until no change for debounce_s
                with self._pending_lock:
                    quiet_for = time.monotonic() - self._last_change
                if quiet_for >= self._debounce_s:
                    break
                if self._stopping.wait(self._debounce_s - quiet_for):
                    return
            if self._wait_while_on_battery():
                return
            with self._pending_lock:
                paths = tuple(sorted(self._pending))
                self._pending.clear()
                self._wake.clear()
            self._refresh(paths)

    def _paused(self) -> bool:
        from greenpair.core.energy.eco import should_pause_indexing

        return should_pause_indexing(self.index.settings, self._power_root)

    def _wait_while_on_battery(self) -> bool:
        """Hold changes while on battery (re-checked once a minute); True when stopping."""
        if not self._paused():
            return False
        from greenpair.core import messages

        messages.info("On battery: re-indexing waits until the laptop is plugged in.")
        while self._paused():
            if self._stopping.wait(BATTERY_RECHECK_S):
                return True
        return False

    def _refresh(self, paths: tuple[str, ...]) -> None:
        started = time.monotonic()
        progress = []
        scan_all, self._walk_all = self._walk_all, False
        try:
            for event in self.index.update(
                embed=self._embed, paths=None if scan_all else paths
            ):
                progress.append(event)
                if self._stopping.is_set():
                    break  # the index stays consistent; the next run finishes
            changed = progress[-1].files_total if progress else 0
            result = WatchEvent(paths, changed, time.monotonic() - started, None, progress)
        except Exception as exc:  # keep watching; report the problem
            log.exception("re-indexing failed")
            self._walk_all = True  # these paths may not be indexed yet
            result = WatchEvent(paths, 0, time.monotonic() - started, str(exc), progress)
        if self._on_event is not None:
            self._on_event(result)

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> Watcher:
        """Start watching (returns self)."""
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class _Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type in {"opened", "closed_no_write"}:
                    return  # reads, not changes
                if event.is_directory and event.event_type in {"modified", "closed"}:
                    return  # a file inside changed: that file has its own event
                watcher._on_fs_event(event)

        self._stopping.clear()
        self._worker = threading.Thread(target=self._run, name="greenpair-watch", daemon=True)
        self._worker.start()
        self._observer = Observer()
        self._observer.schedule(_Handler(), str(self.repo), recursive=True)
        self._observer.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching and wait for the threads to end."""
        self._stopping.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
            self._observer = None
        if self._worker is not None:
            self._worker.join(timeout)
            self._worker = None

    def __enter__(self) -> Watcher:
        return self.start() if self._worker is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def watch(
    repo: Path,
    on_event: Callable[[WatchEvent], None] | None = None,
    *,
    index: RepoIndex | None = None,
    debounce_s: float = DEBOUNCE_S,
    embed: bool = True,
) -> Watcher:
    """A started :class:`Watcher` of ``repo`` (``stop()`` it, or use it as a context).

    The index is not built here: run ``index.update()`` first for a complete index.
    """
    check_repo(repo)
    return Watcher(
        index or open_index(repo), on_event, debounce_s=debounce_s, embed=embed
    ).start()
