"""The suggestion popup: a small frameless window near the pointer.

The global hotkey (or ``greenpair suggest``) calls ``PopupController.request``
(``popup_controller``): it remembers the window that had focus, takes the selected text
(or the clipboard) and opens ``SuggestionPopup`` there. The popup streams a suggestion from core's ``suggest()`` in a
worker, in one of three modes — complete, fix, explain — that Tab cycles. Enter copies
the suggestion and pastes it into the remembered window; Esc, or the popup losing focus,
dismisses it and cancels the generation.

Green: presses inside the debounce interval, a repeat on an unchanged selection, and
empty selections start no generation; they are counted as avoided generations.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import (
    QCursor,
    QGuiApplication,
    QKeyEvent,
    QPaintEvent,
)
from PySide6.QtWidgets import QVBoxLayout, QWidget

from greenpair.core.assistant.suggest.selection_context import RepoMatch, find_in_repo
from greenpair.core.errors import GreenpairError
from greenpair.core.llm.runtime import GenerationStats
from greenpair.core.services import Services
from greenpair.ui.popup.target import (
    Selection,
    can_paste,
    guess_language,
    hook_event,
    hooks_enabled,
    paste_into,
    platform_paste_hint,
)
from greenpair.ui.popup.view import PopupView
from greenpair.ui.workers import CoreWorker, start_worker

log = logging.getLogger(__name__)

TITLE = "Greenpair suggestion"
MODES = ("complete", "fix", "explain")
NOTHING_SELECTED = "Nothing selected — select some code (or copy it), then press the hotkey."


def _stream(text: str, mode: str, repo: Path | None, runtime: Any, services: Services,
            cancel: threading.Event) -> Iterator[str | RepoMatch]:
    """Core's suggestion stream (runs in the worker thread).

    First yields the ``RepoMatch`` when the text comes from a file of ``repo``; a
    completion then sees the file around the selection instead of the bare selection.
    """
    from greenpair.core.assistant.suggest.suggestion import CURSOR, split_cursor, suggest

    match = find_in_repo(text, repo) if split_cursor(text) is None else None
    if match is not None:
        yield match
        if mode == "complete":
            text = match.completion_text(CURSOR)
    yield from suggest(text, mode, repo=repo, runtime=runtime, cancel=cancel,
                       meter=services.meter, counts=services.suggestions)


def count_avoided(reason: str, services: Services) -> None:
    """Count a generation the popup did not run (the services' counts and meter's ledger)."""
    from greenpair.core.energy.meter import SUGGESTIONS_AVOIDED

    services.suggestions.avoided(reason)
    services.meter.count(SUGGESTIONS_AVOIDED)


def skip_reason(text: str) -> tuple[str, str] | None:
    """Why no generation should run for ``text``: (reason, message); None: generate."""
    if not text.strip():
        return "empty", NOTHING_SELECTED
    from greenpair.core.assistant.suggest.suggestion import should_skip

    reason = should_skip(text)
    if reason is None:
        return None
    return reason, f"Nothing to suggest for this selection ({reason})."


def pasted_text(selection: Selection, mode: str, suggestion: str) -> str:
    """What Enter pastes over the selection.

    A completion continues the selected text, which the paste replaces while it is still
    selected (PRIMARY), so the selection goes in front of it (the suggestion at the cursor
    marker, when the selection holds one); a fix replaces it.
    """
    if mode != "complete" or selection.origin != "primary":
        return suggestion
    from greenpair.core.assistant.suggest.suggestion import split_cursor

    parts = split_cursor(selection.text)
    if parts is None:
        return selection.text + suggestion
    return parts[0] + suggestion + parts[1]


class SuggestionPopup(QWidget):
    """Streams one suggestion for a selection; Tab, Enter, Esc.

    Signals:
        dismissed(): Closed without pasting (Esc, focus lost).
        accepted(str): Enter: the text now on the clipboard (and pasted where possible).
        finished(str): A generation ended; its full suggestion.

    Args:
        runtime: The model runtime for ``suggest()`` (None: the services' runtime).
        services: The process's services (meter, runtime, settings; default: built here).
        parent: The Qt parent.
    """

    dismissed = Signal()
    accepted = Signal(str)
    finished = Signal(str)

    def __init__(self, *, runtime: Any = None, services: Services | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)
        self.setWindowTitle(TITLE)
        self.setAccessibleName(TITLE)
        self.runtime = runtime
        self.services = services if services is not None else Services.build()
        self.selection = Selection("", "none")
        self.repo: Path | None = None
        self.target: str | None = None
        self.mode = MODES[0]
        self.language: str | None = None
        self.match: RepoMatch | None = None
        self._failed = False
        self.suggestion = ""
        self.tokens = 0
        self._worker: CoreWorker | None = None
        self._generation = 0
        self._started_at = 0.0
        self._closing = False
        self._unpainted = False
        self._build()


    def model(self) -> Any:
        """The runtime suggestions use: the given one, else the services' current one."""
        return self.runtime if self.runtime is not None else self.services.runtime()
    def _build(self) -> None:
        self.view = PopupView(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.resize(580, 210)

    # -- opening and generating ------------------------------------------------------

    def show_for(self, selection: Selection, *, mode: str = "auto", repo: Path | None = None,
                 target: str | None = None, pos: QPoint | None = None) -> None:
        """Open the popup for ``selection`` and start generating (unless skipped)."""
        self.selection, self.repo, self.target = selection, repo, target
        self.language = guess_language(selection.text)
        self.match = None
        self.mode = mode if mode in MODES else MODES[0]
        self._closing = False
        self._unpainted = True
        self._place(pos or QCursor.pos())
        self.show()
        self.raise_()
        self.activateWindow()
        self.setFocus()
        hook_event("shown", mode=self.mode, chars=len(selection.text), origin=selection.origin)
        self._start()

    def _place(self, pos: QPoint) -> None:
        screen = QGuiApplication.screenAt(pos) or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        x = min(max(pos.x() + 12, area.left()), area.right() - self.width())
        y = pos.y() + 16
        if y + self.height() > area.bottom():
            y = pos.y() - self.height() - 8
        self.move(x, max(y, area.top()))

    def _start(self) -> None:
        self._stop_worker()
        self._generation += 1
        self.suggestion, self.tokens, self._failed = "", 0, False
        self._update_header()
        completing = self.mode == "complete" and self.selection.origin == "primary"
        self.view.start(self.selection.text if completing else "",
                        prose=self.mode == "explain")
        skip = skip_reason(self.selection.text)
        if skip is not None:
            count_avoided(skip[0], self.services)
            self.view.set_status(skip[1])
            hook_event("skipped", reason=skip[0])
            self.finished.emit("")
            return
        self.view.set_status("Generating…")
        self._started_at = time.monotonic()
        generation = self._generation
        self._worker = start_worker(
            _stream, self.selection.text, self.mode, self.repo, self.model(), self.services,
            pass_cancel=True,
            on_yield=lambda piece: self._on_token(generation, piece),
            on_error=lambda exc: self._on_error(generation, exc),
            on_finish=lambda: self._on_finished(generation),
            forward_errors=False,
        )

    def _stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.quit()

    def _on_token(self, generation: int, piece: str | RepoMatch) -> None:
        if generation != self._generation:
            return
        if isinstance(piece, RepoMatch):
            self.match = piece
            self.language = guess_language(self.selection.text, piece.path)
            self._update_header()
            return
        if not self.tokens:
            hook_event("first_token", mode=self.mode)
        self.tokens += 1
        self.suggestion += piece
        self.view.append(piece)

    def _on_error(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        text = exc.message if isinstance(exc, GreenpairError) else f"Suggestion failed: {exc}"
        if isinstance(exc, GreenpairError) and exc.hint:
            text += f" {exc.hint}"
        log.warning("suggestion failed: %s", exc, exc_info=not isinstance(exc, GreenpairError))
        self._failed = True
        self.view.set_status(text, error=True)
        hook_event("error", text=text)

    def _on_finished(self, generation: int) -> None:
        if generation != self._generation:
            return
        self._worker = None
        if self._failed:
            return  # the error stays shown
        if self.suggestion.strip():
            self.view.set_status(f"{self._figures()} — {self._keys_hint()}")
        else:
            self.view.set_status("No suggestion for this selection. Tab: another mode.")
        hook_event("finished", mode=self.mode, text=self.suggestion, tokens=self.tokens,
                   **self._model_stats())
        self.finished.emit(self.suggestion)

    def _model_stats(self) -> dict[str, Any]:
        """The model's figures of the last generation, for the test hooks."""
        if not hooks_enabled():
            return {}
        runtime = self.runtime or self.services.runtimes.current()
        stats = getattr(runtime, "last_stats", None)
        return dataclasses.asdict(stats) if isinstance(stats, GenerationStats) else {}

    def _update_header(self) -> None:
        where = f"{self.match.path}:{self.match.line}" if self.match is not None else None
        self.view.set_header(self.language, self.mode, MODES, where)

    def _figures(self) -> str:
        """``12 tokens · 0.8 s · 3.1 J (estimated)`` for the generation that just ended."""
        seconds = time.monotonic() - self._started_at
        report = self.services.meter.last_report
        tokens = report.tokens if report and report.kind == "suggestion" and report.tokens \
            else self.tokens
        text = f"{tokens} token{'s' if tokens != 1 else ''} · {seconds:.1f} s"
        if report is not None and report.kind == "suggestion" and report.joules is not None:
            text += f" · {report.joules:.1f} J" + (" (estimated)" if report.estimated else "")
        return text

    def _keys_hint(self) -> str:
        action = "paste" if can_paste() and self.mode != "explain" else "copy"
        return f"Enter: {action} · Esc: close"

    def is_generating(self) -> bool:
        """Whether a generation is running."""
        return self._worker is not None

    # -- keys and focus -----------------------------------------------------------

    def cycle_mode(self, step: int = 1) -> None:
        """Switch to the next (or previous) mode and generate again."""
        self.mode = MODES[(MODES.index(self.mode) + step) % len(MODES)]
        hook_event("mode", mode=self.mode)
        self._start()

    def accept(self) -> None:
        """Copy the suggestion; paste it into the window that had focus (not ``explain``)."""
        if not self.suggestion.strip():
            return
        text = pasted_text(self.selection, self.mode, self.suggestion)
        QGuiApplication.clipboard().setText(text)
        self._close_quietly()
        paste = self.mode != "explain" and can_paste()
        if paste:
            threading.Thread(target=self._paste, name="greenpair-paste", daemon=True).start()
        else:
            hook_event("copied", text=text)
        log.info("suggestion %s (%d chars)", "pasted" if paste else "copied", len(text))
        self.accepted.emit(text)

    def _paste(self) -> None:
        sent = paste_into(self.target)
        hook_event("pasted" if sent else "paste_failed", target=self.target,
                   hint=platform_paste_hint())

    def dismiss(self) -> None:
        """Close without pasting and cancel the generation."""
        if self._closing:
            return
        self._close_quietly()
        hook_event("dismissed")
        self.dismissed.emit()

    def _close_quietly(self) -> None:
        self._closing = True
        self._generation += 1
        self._stop_worker()
        self.hide()

    def event(self, event: QEvent) -> bool:
        """Tab and Shift+Tab cycle the mode (instead of moving the focus)."""
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() == Qt.Key.Key_Tab:
                self.cycle_mode(1)
                return True
            if event.key() == Qt.Key.Key_Backtab:
                self.cycle_mode(-1)
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter accepts, Esc dismisses."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accept()
        elif event.key() == Qt.Key.Key_Escape:
            self.dismiss()
        else:
            super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Record the first paint after opening (the latency benchmark's "popup shown")."""
        super().paintEvent(event)
        if self._unpainted:
            self._unpainted = False
            hook_event("painted")

    def changeEvent(self, event: QEvent) -> None:
        """Losing the focus to another window dismisses the popup."""
        super().changeEvent(event)
        if (event.type() == QEvent.Type.ActivationChange and self.isVisible()
                and not self.isActiveWindow() and not self._closing):
            self.dismiss()
