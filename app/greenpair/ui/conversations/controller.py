"""Keeps the conversations of the open repository and drives the side panel.

Finished turns are written to core's ``ConversationStore`` (unless keeping is off in
Settings); reopening a conversation hands its turns and saved state to the assistant
controller, so the next question is a follow-up. Confirmations and the export's file
dialog go through replaceable callables (``confirm``, ``choose_export_path``) so that
tests drive the real flow without modal dialogs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from greenpair.core.config import Settings
from greenpair.core.errors import GreenpairError
from greenpair.ui.conversations.panel import ConversationsPanel
from greenpair.ui.message_bridge import UserMessage
from greenpair.ui.window.assistant_controller import AssistantController

log = logging.getLogger(__name__)


def _confirm_dialog(parent: QWidget | None, text: str) -> bool:
    answer = QMessageBox.question(parent, "Greenpair", text)
    return answer == QMessageBox.StandardButton.Yes


def _export_dialog(parent: QWidget | None, suggested: str) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(parent, "Export the conversation", suggested,
                                          "Markdown (*.md)")
    return Path(name) if name else None


class HistoryController(QObject):
    """Kept conversations: saves turns, lists, reopens, renames, deletes and exports.

    Args:
        panel: The side panel.
        assistant: The assistant controller (its finished turns are kept).
        settings: ``keep_conversations`` turns keeping on or off.

    Signals:
        problem(object): A ``UserMessage`` (the store cannot be read or written).
        info(str): A short note for the status bar ("Exported to …").
    """

    problem = Signal(object)
    info = Signal(str)

    def __init__(self, panel: ConversationsPanel, assistant: AssistantController,
                 settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panel, self.assistant, self.settings = panel, assistant, settings
        self.repo: Path | None = None
        self.current_id: int | None = None
        self._store: Any = None
        self.confirm: Callable[[QWidget | None, str], bool] = _confirm_dialog
        self.choose_export_path: Callable[[QWidget | None, str], Path | None] = _export_dialog
        assistant.turn_finished.connect(self._on_turn_finished)
        assistant.conversation_reset.connect(self._on_reset)
        panel.open_requested.connect(self.open)
        panel.rename_requested.connect(self.rename)
        panel.delete_requested.connect(self.delete)
        panel.export_requested.connect(self.export)
        panel.delete_all_requested.connect(self.delete_all)
        panel.search_changed.connect(lambda _text: self.refresh())
        self.refresh()

    @property
    def keeping(self) -> bool:
        """Whether finished turns are kept."""
        return bool(self.settings.keep_conversations)

    @property
    def store(self) -> Any:
        """Core's ``ConversationStore``, opened on first use."""
        if self._store is None:
            from greenpair.core.conversations.conversation_store import ConversationStore

            self._store = ConversationStore()
        return self._store

    def _guard(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except GreenpairError as exc:
            self.problem.emit(UserMessage("error", str(exc), getattr(exc, "hint", "") or ""))
            return None

    def set_repo(self, repo: Path | None) -> None:
        """Another repository: its conversations are listed."""
        self.repo, self.current_id = repo, None
        self.refresh()

    def set_settings(self, settings: Settings) -> None:
        """Keeping may have been turned on or off."""
        self.settings = settings
        self.refresh()

    def refresh(self) -> None:
        """List the repository's conversations that match the search text."""
        if self.repo is None:
            self.panel.set_conversations([], note="Open a repository to see its conversations.")
            return
        if not self.keeping and self._store is None and not _store_exists():
            self.panel.set_conversations([], note="Keeping conversations is off (Settings).")
            return
        text = self.panel.search.text()
        found = self._guard(lambda: self.store.search(self.repo, text))
        note = "" if self.keeping else "Keeping is off (Settings): new answers are not kept."
        self.panel.set_conversations(found or [], self.current_id, note=note)

    def _on_reset(self) -> None:
        self.current_id = None
        self.panel.select(None)

    def _on_turn_finished(self, turn: Any, result: Any) -> None:
        if not self.keeping or self.repo is None:
            return
        from greenpair.core.conversations.keeping import kept_turn

        conversation = self.assistant.conversation
        shown = conversation.shown if conversation is not None else []
        kept = kept_turn(turn.question, result, kind=turn.kind, text=turn.text,
                         stats=turn.stats, shown=shown)
        state = conversation.state() if turn.kind == "ask" and conversation else None

        def save() -> None:
            if self.current_id is None or self.store.get(self.current_id) is None:
                self.current_id = self.store.create(self.repo, turn.question, model=kept.model)
            elif turn.regenerated:
                self.store.drop_last_turn(self.current_id)
            self.store.add_turn(self.current_id, kept, state=state)

        self._guard(save)
        self.refresh()

    def open(self, conversation_id: int) -> bool:
        """Reopen a kept conversation in the chat."""
        if self.assistant.busy or conversation_id == self.current_id:
            return False
        kept = self._guard(lambda: self.store.get(conversation_id))
        if kept is None or not self.assistant.restore(kept):
            self.refresh()
            return False
        self.current_id = conversation_id
        self.panel.select(conversation_id)
        return True

    def rename(self, conversation_id: int, title: str) -> None:
        """Give a conversation a new title."""
        self._guard(lambda: self.store.rename(conversation_id, title))
        self.refresh()

    def delete(self, conversation_id: int) -> None:
        """Delete one conversation (the chat is cleared if it was the open one)."""
        self._guard(lambda: self.store.delete(conversation_id))
        if conversation_id == self.current_id:
            self.assistant.new_conversation()
        self.refresh()

    def delete_all(self) -> int:
        """Delete every kept conversation of the repository, after a confirmation."""
        if self.repo is None or not self.confirm(
                self.panel.window(), "Delete every kept conversation of this repository? "
                                     "This cannot be undone."):
            return 0
        n = self._guard(lambda: self.store.delete_all(self.repo)) or 0
        if self.current_id is not None:
            self.assistant.new_conversation()
        self.refresh()
        self.info.emit(f"Deleted {n} conversation{'s' if n != 1 else ''}.")
        return int(n)

    def export(self, conversation_id: int) -> Path | None:
        """Save a conversation as Markdown where the user chooses."""
        from greenpair.core.conversations.export import export_filename, to_markdown

        kept = self._guard(lambda: self.store.get(conversation_id))
        if kept is None:
            return None
        path = self.choose_export_path(self.panel.window(), export_filename(kept))
        if path is None:
            return None
        try:
            path.write_text(to_markdown(kept), encoding="utf-8")
        except OSError as exc:
            self.problem.emit(UserMessage("error", f"Cannot write {path}: {exc.strerror or exc}.",
                                          "Choose another folder."))
            return None
        self.info.emit(f"Exported to {path}.")
        return path

    def close(self) -> None:
        """Close the store."""
        if self._store is not None:
            self._store.close()
            self._store = None


def _store_exists() -> bool:
    from greenpair.core.conversations.conversation_store import conversations_path

    return conversations_path().exists()
