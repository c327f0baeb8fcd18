"""What the suggestion popup shows: a header with the modes, the streamed text, a status.

For a completion, the end of the selection is shown greyed before the suggestion, so
the user sees where the new text continues.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

GREEN = "#2e9d4f"
CONTEXT_LINES = 2


class PopupView(QFrame):
    """The popup's frame and widgets (no logic).

    Args:
        parent: The popup.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("popupFrame")
        self.setStyleSheet(
            "#popupFrame { border: 1px solid palette(mid); border-left: 3px solid "
            f"{GREEN}; border-radius: 5px; background: palette(base); }}"
        )
        self.header = QLabel(self)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.text.setFrameShape(QFrame.Shape.NoFrame)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName("Suggestion")
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        small = QFont(self.status.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        self.status.setFont(small)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 10, 8)
        layout.setSpacing(6)
        layout.addWidget(self.header)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.status)

    def set_header(self, language: str | None, mode: str, modes: tuple[str, ...],
                   where: str | None = None) -> None:
        """``Greenpair · python · src/x.py:12`` and the modes, the current one marked."""
        muted = self.muted().name()
        chips = " ".join(
            f"<b style='color:{GREEN}'>{m}</b>" if m == mode else f"<span style='color:{muted}'>"
            f"{m}</span>" for m in modes)
        info = " · ".join(html.escape(p) for p in (language or "text", where) if p)
        self.header.setText(
            f"<b style='color:{GREEN}'>Greenpair</b> · {info}&nbsp;&nbsp;&nbsp;{chips}"
            f"&nbsp;&nbsp;<span style='color:{muted}'>(Tab)</span>")

    def muted(self) -> QColor:
        """Half-way between the text and the background: for hints and context."""
        text = self.palette().color(QPalette.ColorRole.Text)
        base = self.palette().color(QPalette.ColorRole.Base)
        return QColor((text.red() + base.red()) // 2, (text.green() + base.green()) // 2,
                      (text.blue() + base.blue()) // 2)

    def start(self, context: str = "", *, prose: bool = False) -> None:
        """Clear the text; show ``context`` (the selection's end) greyed first.

        Code keeps its lines (no wrapping); prose (an explanation) wraps.
        """
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth if prose
                                  else QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.clear()
        if not context:
            return
        lines = context.splitlines(keepends=True)[-CONTEXT_LINES:]
        fmt = QTextCharFormat()
        fmt.setForeground(self.muted())
        cursor = self.text.textCursor()
        cursor.insertText("".join(lines), fmt)

    def append(self, piece: str) -> None:
        """Add streamed text at the end, in the normal colour."""
        fmt = QTextCharFormat()
        fmt.setForeground(self.palette().color(QPalette.ColorRole.Text))
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece, fmt)
        self.text.setTextCursor(cursor)
        self.text.ensureCursorVisible()

    def set_status(self, text: str, *, error: bool = False) -> None:
        """The line under the text (errors in red)."""
        colour = QColor("#c62828").name() if error else ""
        self.status.setStyleSheet(f"color: {colour};" if colour else "")
        self.status.setText(text)
