"""Let the text caret rest: it stops blinking after a while without typing.

A blinking caret is a timer firing twice a second, forever. Like GNOME's
``cursor-blink-timeout``, the caret blinks while the user works and stays solid once they
stop (``QApplication.setCursorFlashTime(0)``), so an idle window fires no timer at all.
Typing, clicking or focusing a watched widget makes it blink again.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

REST_AFTER_MS = 10_000
_WAKE_EVENTS = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.FocusIn,
                QEvent.Type.InputMethod}


class CaretRest(QObject):
    """Stops the caret blinking ``rest_after_ms`` after the last input in ``widgets``."""

    def __init__(self, widgets: list[QWidget], rest_after_ms: int = REST_AFTER_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.flash_ms = QApplication.cursorFlashTime() or 1000
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(rest_after_ms)
        self._timer.timeout.connect(self.rest)
        for widget in widgets:
            widget.installEventFilter(self)
        self._timer.start()

    @property
    def resting(self) -> bool:
        """Whether the caret is solid now."""
        return QApplication.cursorFlashTime() == 0

    def rest(self) -> None:
        """Stop blinking (no timer runs until the next input)."""
        QApplication.setCursorFlashTime(0)

    def wake(self) -> None:
        """Blink again and count the rest period from now."""
        if QApplication.cursorFlashTime() == 0:
            QApplication.setCursorFlashTime(self.flash_ms)
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Any input in a watched widget wakes the caret."""
        if event.type() in _WAKE_EVENTS:
            self.wake()
        return False

    def stop(self) -> None:
        """Blink as usual again and stop watching the time (the window is closing)."""
        self._timer.stop()
        if QApplication.cursorFlashTime() == 0:
            QApplication.setCursorFlashTime(self.flash_ms)
