"""Helpers for the window's flow tests (real core: index, retrieval, assistant, models)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt

from greenpair.ui.window.main_window import MainWindow

INDEX_TIMEOUT_MS = 180_000
ANSWER_TIMEOUT_MS = 180_000


def wait_indexed(qtbot: Any, window: MainWindow) -> None:
    """Wait until the index run of the open repository has finished."""
    qtbot.waitUntil(
        lambda: not window.index.running
        and window.index_status.label.text().startswith("Index up to date"),
        timeout=INDEX_TIMEOUT_MS,
    )


def record_pieces(window: MainWindow) -> list[str]:
    """Record every piece of text the chat view receives while an answer streams."""
    pieces: list[str] = []
    original: Callable[[str], None] = window.chat.append_text

    def append(piece: str) -> None:
        if window.chat.is_streaming:
            pieces.append(piece)
        original(piece)

    window.chat.append_text = append  # type: ignore[method-assign]
    return pieces


def type_and_send(qtbot: Any, window: MainWindow, text: str, *, propose: bool = False) -> None:
    """Type into the question box and press Ctrl+Enter (Ctrl+Shift+Enter to propose)."""
    window.input.setFocus()
    qtbot.keyClicks(window.input, text)
    mods = Qt.KeyboardModifier.ControlModifier
    if propose:
        mods |= Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.input, Qt.Key.Key_Return, mods)


def wait_answer(qtbot: Any, window: MainWindow) -> None:
    """Wait until the answer (or patch) has been written."""
    qtbot.waitUntil(lambda: not window.assistant.busy, timeout=ANSWER_TIMEOUT_MS)
