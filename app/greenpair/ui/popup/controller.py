"""Opening the popup on request (the hotkey, ``greenpair suggest``), debounced.

The controller remembers the window that had focus, reads the selection (or the
clipboard) and the current repository, and hands them to ``SuggestionPopup``. Presses
inside the debounce interval and repeats on an unchanged selection start nothing and are
counted as avoided generations.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path

from PySide6.QtCore import QObject

from greenpair.core.config import Settings
from greenpair.ui.popup.popup import MODES, SuggestionPopup, count_avoided
from greenpair.ui.popup.target import active_window, hook_event, read_selection


class PopupController(QObject):
    """Opens the popup on request (hotkey, local socket), debounced.

    Args:
        popup: The popup to drive (default: a new one).
        debounce_s: Requests closer than this to the previous one are dropped.
        parent: The Qt parent.
    """

    def __init__(self, popup: SuggestionPopup | None = None, *, debounce_s: float = 0.5,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.popup = popup or SuggestionPopup()
        self.debounce_s = debounce_s
        self.avoided: collections.Counter[str] = collections.Counter()
        self._last = float("-inf")

    def request(self, mode: str = "auto") -> bool:
        """Open the popup on the current selection.

        Returns:
            False when the request was dropped (debounced or a repeat).
        """
        now = time.monotonic()
        if now - self._last < self.debounce_s:
            self.avoided["debounced"] += 1
            count_avoided("debounced", self.popup.services)
            return False
        self._last = now
        hook_event("requested", mode=mode)
        selection = read_selection()
        if self.popup.isVisible():
            if selection.text == self.popup.selection.text:
                self.avoided["repeat"] += 1
                count_avoided("repeat", self.popup.services)
                self.popup.activateWindow()
                return False
            target = self.popup.target
            self.popup.dismiss()
        else:
            target = active_window()
        if not selection.text.strip():
            self.avoided["empty"] += 1  # the popup says "Nothing selected" (and counts it)
        self.popup.show_for(selection, mode=self._mode(mode, selection.text),
                            repo=_current_repo(self.popup.services.settings), target=target)
        return True

    @staticmethod
    def _mode(mode: str, text: str) -> str:
        if mode in MODES:
            return mode
        if not text.strip():
            return MODES[0]
        from greenpair.core.assistant.suggest.suggestion import choose_mode

        chosen = choose_mode(text)
        return chosen if chosen in MODES else MODES[0]


def _current_repo(settings: Settings) -> Path | None:
    """The repository whose index gives the popup context: the last one opened."""
    recent = settings.recent_repos
    if recent and Path(recent[0]).is_dir():
        return Path(recent[0])
    return None
