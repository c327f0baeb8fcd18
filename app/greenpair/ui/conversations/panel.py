"""The side panel of kept conversations: list, search, reopen, rename, delete, export.

The panel only shows what core's ``ConversationStore`` holds and asks the window to act;
it keeps no state of its own beyond the list on screen. The rename dialog goes through
``ask_title`` (replaceable, so tests need no modal dialog). Searching filters as the user
types (a query per key press, on a local SQLite file: no timer, no thread).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

ID_ROLE = Qt.ItemDataRole.UserRole


def _when(ts: float) -> str:
    day = datetime.fromtimestamp(ts)
    if day.date() == datetime.now().date():
        return day.strftime("today %H:%M")
    return day.strftime("%Y-%m-%d")


def _title_dialog(parent: QWidget, title: str) -> str | None:
    text, ok = QInputDialog.getText(parent, "Rename the conversation", "Title:", text=title)
    return text if ok else None


def summary_line(summary: Any) -> str:
    """What a listed conversation shows under its title: date and model, then tokens
    and joules (two lines)."""
    joules = f"{summary.joules:.0f} J" if summary.joules >= 1 else f"{summary.joules:.2f} J"
    model = summary.model.rsplit("/", 1)[-1] or "no model yet"
    return f"{_when(summary.updated)} · {model}\n{summary.tokens:,} tokens · {joules}"


class ConversationsPanel(QWidget):
    """Kept conversations of the open repository.

    Signals:
        open_requested(int): Reopen this conversation.
        rename_requested(int, str): Rename it (the new title).
        delete_requested(int): Delete it.
        export_requested(int): Export it as Markdown.
        delete_all_requested(): Delete every kept conversation of the repository.
        search_changed(str): The search text changed.
    """

    open_requested = Signal(int)
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    export_requested = Signal(int)
    delete_all_requested = Signal()
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Kept conversations")
        self.setMinimumWidth(130)  # the buttons may squeeze; the window stays narrow
        self.title = QLabel("<b>Conversations</b>")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search questions and answers…")
        self.search.setAccessibleName("Search conversations")
        self.search.setClearButtonEnabled(True)
        for clear in self.search.findChildren(QToolButton):
            clear.setAccessibleName("Clear the search")
        self.list = QListWidget()
        self.list.setAccessibleName("Conversations")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSpacing(2)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.rename_button = QPushButton("Rename")
        self.delete_button = QPushButton("Delete")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save as Markdown, citations as path:lines")
        self.delete_all_button = QPushButton("Delete all")
        self.delete_all_button.setToolTip("Delete every kept conversation of this repository")
        for button, name in ((self.rename_button, "Rename the conversation"),
                             (self.delete_button, "Delete the conversation"),
                             (self.export_button, "Export the conversation as Markdown"),
                             (self.delete_all_button, "Delete all conversations")):
            button.setAccessibleName(name)
        row = QGridLayout()
        row.addWidget(self.rename_button, 0, 0)
        row.addWidget(self.delete_button, 0, 1)
        row.addWidget(self.export_button, 1, 0)
        row.addWidget(self.delete_all_button, 1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.note)
        layout.addLayout(row)
        self.search.textChanged.connect(self.search_changed)
        self.list.itemActivated.connect(self._on_activated)
        self.list.itemClicked.connect(self._on_activated)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.rename_button.clicked.connect(self._on_rename)
        self.delete_button.clicked.connect(self._on_delete)
        self.export_button.clicked.connect(self._on_export)
        self.delete_all_button.clicked.connect(self.delete_all_requested)
        self.ask_title: Callable[[QWidget, str], str | None] = _title_dialog
        self._update_buttons()

    def set_conversations(self, summaries: list[Any], current: int | None = None,
                          note: str = "") -> None:
        """Show ``summaries`` (core's ``ConversationSummary``); select ``current``."""
        self.list.clear()
        for s in summaries:
            item = QListWidgetItem(f"{s.title}\n{summary_line(s)}")
            item.setData(ID_ROLE, s.id)
            item.setToolTip(f"{s.title}\n{s.turns} answer(s)\n{summary_line(s)}")
            self.list.addItem(item)
            if s.id == current:
                self.list.setCurrentItem(item)
        if not note and not summaries:
            note = ("No match." if self.search.text().strip()
                    else "Answers you get are kept here, per repository.")
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self._update_buttons()

    def ids(self) -> list[int]:
        """The ids listed, top first."""
        return [int(self.list.item(i).data(ID_ROLE)) for i in range(self.list.count())]

    def current_id(self) -> int | None:
        """The selected conversation's id."""
        item = self.list.currentItem()
        return int(item.data(ID_ROLE)) if item is not None else None

    def select(self, conversation_id: int | None) -> None:
        """Select a listed conversation (None: none)."""
        for i in range(self.list.count()):
            if self.list.item(i).data(ID_ROLE) == conversation_id:
                self.list.setCurrentRow(i)
                return
        self.list.setCurrentRow(-1)

    def _update_buttons(self) -> None:
        selected = self.list.currentItem() is not None
        for button in (self.rename_button, self.delete_button, self.export_button):
            button.setEnabled(selected)
        self.delete_all_button.setEnabled(self.list.count() > 0)

    def _on_activated(self, item: QListWidgetItem) -> None:
        self.open_requested.emit(int(item.data(ID_ROLE)))

    def _on_rename(self) -> None:
        if self.list.currentRow() < 0:
            return
        item = self.list.currentItem()
        title = self.ask_title(self, item.text().split("\n", 1)[0])
        if title is not None and title.strip():
            self.rename_requested.emit(int(item.data(ID_ROLE)), title)

    def _on_delete(self) -> None:
        cid = self.current_id()
        if cid is not None:
            self.delete_requested.emit(cid)

    def _on_export(self) -> None:
        cid = self.current_id()
        if cid is not None:
            self.export_requested.emit(cid)
