"""A banner for errors and warnings: what went wrong and the fix, never a traceback."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from greenpair.ui.message_bridge import UserMessage
from greenpair.ui.theme import colours
from greenpair.ui.window import render


class Banner(QFrame):
    """An inline message above the question box, with an optional fix-it button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.message: UserMessage | None = None
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName("Message")
        self.action_button = QPushButton()
        self.action_button.setAccessibleName("Fix it")
        self.action_button.hide()
        self.close_button = QPushButton("Dismiss")
        self.close_button.setAccessibleName("Dismiss the message")
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self._action: Callable[[], object] | None = None
        self.action_button.clicked.connect(self._on_action)
        self.hide()

    def show_message(self, message: UserMessage, action: tuple[str, Callable[[], object]] | None = None) -> None:
        """Show ``message`` (its hint on a second line) with an optional action button."""
        self.message = message
        c = colours(self.palette())
        strong = c.error_fg if message.level == "error" else c.text
        hint = f"<br>{render.escape(message.hint)}" if message.hint else ""
        self.label.setText(f'<span style="color:{strong};"><b>{render.escape(message.text)}</b>'
                           f"</span>{hint}")
        bg = c.error_bg if message.level == "error" else c.code_bg
        self.setStyleSheet(f"QFrame#banner {{ background-color: {bg}; border-radius: 4px; }}")
        self.setAccessibleDescription(message.full_text())
        if action is not None:
            self.action_button.setText(action[0])
            self.action_button.setAccessibleName(action[0])
            self._action = action[1]
            self.action_button.show()
        else:
            self._action = None
            self.action_button.hide()
        self.show()

    def text(self) -> str:
        """The message and hint as plain text (empty when hidden)."""
        return self.message.full_text() if self.message and not self.isHidden() else ""

    def dismiss(self) -> None:
        """Hide the banner."""
        self.message = None
        self.hide()

    def _on_action(self) -> None:
        action = self._action
        self.dismiss()
        if action is not None:
            action()
