"""Keeps the open repository's index built and fresh: index runs in a worker, the watcher.

One run at a time. Opening another repository cancels the current run (the index stays
consistent: core's ``update`` is a generator that may be abandoned between files) and
closes the old index once its run has stopped. After the first run, core's watcher keeps
the index fresh while the user edits (it debounces saves and re-reads only changed
files, in its own thread, blocked while nothing changes); each refresh is reported here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from greenpair.core.config import Settings
from greenpair.core.services import Services
from greenpair.ui.workers import CoreWorker, start_worker

log = logging.getLogger(__name__)

def _index_job(repo: Path, settings: Settings, services: Services, index: Any = None,
               rebuild: bool = False) -> Any:
    """Open (unless given) and update the index of ``repo``; yields it, then progress."""
    if index is None:
        from greenpair.core.index import open_index

        model = settings.embedder_model  # the index's space and its embedder agree
        index = open_index(repo, settings, rebuild=rebuild, meter=services.meter,
                           embedder_source=lambda p, t: services.embedders.get(p, t, model))
        yield ("index", index)
    yield from index.update()
    return index.stats()


@dataclass
class _Run:
    repo: Path
    worker: CoreWorker
    index: Any = None
    retired: bool = False  # the repository was switched: close the index when it stops


class IndexController(QObject):
    """Index runs and the watcher for the current repository.

    Signals:
        started(object): A run started for a repository (``Path``).
        progress(object): An ``IndexProgress``.
        finished(object): A run ended: its ``stats()`` dict, or None when cancelled/failed.
        failed(object): A run raised (the exception).
        index_ready(object): The ``RepoIndex`` of the current repository is open.
        refreshed(object): The watcher re-indexed edited files (a core ``WatchEvent``).
    """

    started = Signal(object)
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    index_ready = Signal(object)
    refreshed = Signal(object)
    _watched = Signal(object)  # from the watcher's thread (queued to the GUI thread)

    def __init__(self, settings: Settings, parent: QObject | None = None, *,
                 services: Services) -> None:
        super().__init__(parent)
        self.settings = settings
        self.services = services
        self.repo: Path | None = None
        self.index: Any = None
        self.paused = False
        self._run: _Run | None = None
        self._pending_refresh = False
        self._watcher: Any = None
        self._shut_down = False
        self._watched.connect(self._on_watched)

    @property
    def watching(self) -> bool:
        """Whether the file watcher keeps the index fresh now."""
        return self._watcher is not None

    @property
    def running(self) -> bool:
        """Whether an index run is in progress."""
        return self._run is not None

    def open(self, repo: Path, *, rebuild: bool = False) -> None:
        """Switch to ``repo``: cancel the old run, close the old index, index the new one.

        Args:
            repo: The repository.
            rebuild: Delete its stored index first (a damaged index).
        """
        self._stop_watcher()
        old_index, old_run = self.index, self._run
        self.repo, self.index, self._pending_refresh = repo, None, False
        if old_run is not None:
            old_run.retired = True
            old_run.worker.quit()
        elif old_index is not None:
            self._close(old_index)
        self._run = None
        if not self.paused or rebuild:
            self._start(index=None, rebuild=rebuild)

    def rebuild(self) -> None:
        """Build the current repository's index again from scratch."""
        if self.repo is not None:
            self.open(self.repo, rebuild=True)

    def refresh(self) -> None:
        """Bring the index up to date with the files (incremental)."""
        if self.repo is None or self.paused:
            return
        if self._run is not None:
            self._pending_refresh = True
            return
        self._start(index=self.index)

    def cancel(self) -> None:
        """Stop the current run (what was indexed so far is kept)."""
        if self._run is not None:
            self._run.worker.quit()

    def set_paused(self, paused: bool) -> None:
        """Pause (cancel the run, stop watching) or resume indexing."""
        self.paused = paused
        if paused:
            self._stop_watcher()
            self.cancel()
        elif self.repo is not None:
            self.refresh()

    def shutdown(self) -> None:
        """Stop everything (the caller then waits for the workers and calls ``close``)."""
        self._shut_down = True
        self._stop_watcher()
        self.cancel()

    def close(self) -> None:
        """Close the index (after its run stopped)."""
        if self.index is not None:
            self._close(self.index)
            self.index = None

    # -- runs ----------------------------------------------------------------------------

    def _start(self, index: Any, rebuild: bool = False) -> None:
        assert self.repo is not None
        repo = self.repo
        worker = start_worker(_index_job, repo, self.settings, self.services, index, rebuild,
                              on_yield=lambda value: self._on_yield(run, value),
                              on_return=lambda stats: self._on_return(run, stats),
                              on_error=lambda exc: self._on_error(run, exc),
                              on_finish=lambda: self._on_finish(run))
        run = _Run(repo, worker, index=index)
        self._run = run
        self.started.emit(repo)

    def _on_yield(self, run: _Run, value: Any) -> None:
        if isinstance(value, tuple) and value and value[0] == "index":
            run.index = value[1]
            if not run.retired:
                self.index = run.index
                self.index_ready.emit(run.index)
            return
        if not run.retired:
            self.progress.emit(value)

    def _on_return(self, run: _Run, stats: Any) -> None:
        if not run.retired:
            self.finished.emit(stats)

    def _on_error(self, run: _Run, exc: BaseException) -> None:
        if not run.retired:
            self.failed.emit(exc)

    def _on_finish(self, run: _Run) -> None:
        if run.retired:
            if run.index is not None:
                self._close(run.index)
            return
        if self._run is not run:
            return
        self._run = None
        if run.worker.abort_requested:
            self.finished.emit(None)
        if self.paused or self._shut_down:
            return
        if self._watcher is None and self.index is not None:
            self._start_watcher()
        if self._pending_refresh:
            self._pending_refresh = False
            self.refresh()

    @staticmethod
    def _close(index: Any) -> None:
        try:
            index.close()
        except Exception:  # closing must never take the window down
            log.exception("closing the index failed")

    # -- watcher -------------------------------------------------------------------------

    def _start_watcher(self) -> None:
        if self.repo is None or self.index is None or self._shut_down:
            return
        from greenpair.core.index.watcher import watch

        try:
            self._watcher = watch(self.repo, on_event=self._watched.emit, index=self.index)
        except Exception as exc:  # noqa: BLE001 - without it the index is only less fresh
            log.warning("cannot watch %s for changes: %s", self.repo, exc)
            self._watcher = None

    def _stop_watcher(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            try:
                watcher.stop()
            except Exception:  # stopping must never take the window down
                log.exception("stopping the watcher failed")

    def _on_watched(self, event: Any) -> None:
        if self._watcher is not None and getattr(self._watcher, "index", None) is self.index:
            self.refreshed.emit(event)
