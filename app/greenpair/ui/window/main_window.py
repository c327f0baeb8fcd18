"""The main window: repository, index status, chat, code viewer, patch review.

Thin over core: the index controller keeps the index fresh, the assistant controller
runs questions and patches, both in workers. This module lays the widgets out, wires the
keyboard, shows messages and remembers the window's geometry.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from greenpair.core.config import Settings, data_dir, remember_repo
from greenpair.core.errors import GreenpairError
from greenpair.core.services import Services
from greenpair.ui.conversations.controller import HistoryController
from greenpair.ui.conversations.panel import ConversationsPanel
from greenpair.ui.message_bridge import MessageBridge, UserMessage, describe_error, global_bridge
from greenpair.ui.review.diff_view import DiffView
from greenpair.ui.theme import app_icon
from greenpair.ui.window.assistant_controller import AssistantController
from greenpair.ui.window.banner import Banner
from greenpair.ui.window.caret import CaretRest
from greenpair.ui.window.chat_view import ChatView
from greenpair.ui.window.code_viewer import CodeViewer
from greenpair.ui.window.index_controller import IndexController
from greenpair.ui.window.index_status import IndexStatus
from greenpair.ui.window.repo_picker import RepoPicker
from greenpair.ui.workers import shutdown_workers

log = logging.getLogger(__name__)


class QuestionBox(QPlainTextEdit):
    """The question input: Ctrl+Enter asks, Ctrl+Shift+Enter proposes a change.

    Signals:
        submitted(): Ctrl+Enter.
        propose(): Ctrl+Shift+Enter.
    """

    submitted = Signal()
    propose = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Handle the send keys; everything else edits the text."""
        mods = event.modifiers()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                mods & Qt.KeyboardModifier.ControlModifier:
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.propose.emit()
            else:
                self.submitted.emit()
            return
        super().keyPressEvent(event)


def window_state_store() -> QSettings:
    """Where the geometry is kept (only the geometry: everything else is in Settings)."""
    return QSettings(str(data_dir() / "window.ini"), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """Greenpair's window.

    Args:
        settings: The settings (default: the services' settings).
        runtime: A model runtime (tests); None uses the services' runtime.
        bridge: The message bridge (default: the process-wide one).
        services: The process's services, shared with the tray and popup (default:
            built here from ``settings`` or the saved settings).
    """

    def __init__(self, settings: Settings | None = None, *, runtime: Any = None,
                 bridge: MessageBridge | None = None,
                 services: Services | None = None) -> None:
        super().__init__()
        self._own_services = services is None
        self.services = services if services is not None else Services.build(settings)
        self.settings = self.services.settings
        self.runtime = runtime
        self.repo: Path | None = None
        self._shut_down = False
        self.energy_page: Any = None
        self.setWindowTitle("Greenpair")
        self.setWindowIcon(app_icon())
        self.setAccessibleName("Greenpair")
        self._build()
        self.index = IndexController(self.settings, self, services=self.services)
        self.assistant = AssistantController(self.chat, self.diff, self.settings, runtime, self,
                                             services=self.services)
        self.history = HistoryController(self.conversations, self.assistant, self.settings, self)
        self._connect()
        self._shortcuts()
        self._restore_geometry()
        self.caret = CaretRest([self.input], parent=self)
        self.bridge = bridge if bridge is not None else global_bridge()
        self.bridge.posted.connect(self._on_message)
        self.bridge.hook_core()
        self.bridge.flush()
        self._update_buttons()

    # -- layout --------------------------------------------------------------------------

    def _build(self) -> None:
        self.picker = RepoPicker(self.settings.recent_repos)
        self.index_status = IndexStatus()
        self.settings_button = QPushButton("Settings")
        self.settings_button.setAccessibleName("Settings")
        self.settings_button.setToolTip("Models, performance, energy and privacy (Ctrl+,)")
        top = QHBoxLayout()
        top.addWidget(self.picker, 2)
        top.addWidget(self.index_status, 3)
        self.energy_button = QPushButton("Energy")
        self.energy_button.setAccessibleName("Energy page")
        self.energy_button.setToolTip("Where the energy went, last 30 days (Ctrl+Shift+E)")
        top.addWidget(self.energy_button)
        top.addWidget(self.settings_button)

        self.chat = ChatView()
        self.banner = Banner()
        self.input = QuestionBox()
        self.input.setAccessibleName("Question")
        self.input.setPlaceholderText("Ask about the code, or describe a change… "
                                      "(Ctrl+Enter to ask, Ctrl+Shift+Enter to propose a change)")
        self.input.setTabChangesFocus(True)
        self.input.setMaximumHeight(96)
        self.send_button = QPushButton("Ask")
        self.send_button.setAccessibleName("Ask the question")
        self.send_button.setToolTip("Ctrl+Enter")
        self.propose_button = QPushButton("Propose a change")
        self.propose_button.setAccessibleName("Propose a change")
        self.propose_button.setToolTip("Draft a patch for what you described (Ctrl+Shift+Enter)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setAccessibleName("Stop generating")
        self.stop_button.setToolTip("Esc")
        self.new_button = QPushButton("New conversation")
        self.new_button.setAccessibleName("New conversation")
        buttons = QHBoxLayout()
        for button in (self.send_button, self.propose_button, self.stop_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)
        left = QWidget()
        left.setMinimumWidth(340)  # with the history pane, the window still fits 800 px
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.chat, 1)
        self.model_switch = _model_switch(self.services)
        column.addWidget(self.model_switch)
        column.addWidget(self.banner)
        column.addWidget(self.input)
        column.addLayout(buttons)

        self.viewer = CodeViewer()
        self.diff = DiffView()
        self.side = QTabWidget()
        self.side.setAccessibleName("Code and changes")
        self.side.addTab(self.viewer, "Code")
        self.side.addTab(self.diff, "Change")
        self.conversations = ConversationsPanel()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.conversations)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([250, 560, 390])

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.status_label = QLabel("")
        self.status_label.setAccessibleName("Status")
        self.statusBar().addWidget(self.status_label, 1)
        self.resize(1200, 760)

    def _connect(self) -> None:
        self.picker.repo_chosen.connect(self.open_repo)
        self.settings_button.clicked.connect(self.open_settings)
        self.energy_button.clicked.connect(self.open_energy)
        self.model_switch.model_chosen.connect(self.switch_model)
        # The speed shown is measured on past answers: re-read it after each one.
        self.assistant.turn_finished.connect(lambda *_: self.model_switch.refresh())
        self.model_switch.problem.connect(lambda text: self.show_message(UserMessage(
            "error", text, "Open Settings → Models to pull or choose another model.")))
        self.index_status.cancel_requested.connect(self.cancel_indexing)
        self.index.started.connect(lambda _repo: self.index_status.start())
        self.index.progress.connect(self.index_status.update_progress)
        self.index.index_ready.connect(self.assistant.set_index)
        self.index.finished.connect(self._on_index_finished)
        self.index.failed.connect(self._on_index_failed)
        self.index.refreshed.connect(self._on_index_refreshed)
        self.input.submitted.connect(self.ask)
        self.input.propose.connect(self.propose)
        self.send_button.clicked.connect(self.ask)
        self.propose_button.clicked.connect(self.propose)
        self.stop_button.clicked.connect(self.stop)
        self.new_button.clicked.connect(self.assistant.new_conversation)
        self.assistant.busy_changed.connect(lambda _busy: self._update_buttons())
        self.assistant.problem.connect(self._on_problem)
        self.assistant.patch_ready.connect(lambda: self.side.setCurrentWidget(self.diff))
        self.chat.citation_activated.connect(self.open_citation)
        self.chat.copied.connect(lambda what: self.status_label.setText(
            "Code copied." if what == "code" else "Answer copied (Markdown)."))
        self.chat.propose_requested.connect(self._propose_from)
        self.chat.regenerate_requested.connect(self._regenerate)
        self.history.problem.connect(self.show_message)
        self.history.info.connect(self.status_label.setText)
        self.viewer.message.connect(lambda text: self.show_message(UserMessage("warning", text)))

    def _shortcuts(self) -> None:
        def bind(keys: str | QKeySequence, slot: Any) -> QShortcut:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            return shortcut

        self.stop_shortcut = bind(QKeySequence(Qt.Key.Key_Escape), self.stop)
        bind("Ctrl+L", self.focus_input)
        bind("Ctrl+O", self.picker.browse)
        bind("Ctrl+,", self.open_settings)
        bind("Ctrl+Shift+E", self.open_energy)
        bind("Ctrl+N", self.assistant.new_conversation)
        for n in range(1, 10):
            bind(f"Alt+{n}", lambda n=n: self.chat.open_citation(n))

    # -- repository and index ------------------------------------------------------------

    def open_repo(self, path: Path) -> bool:
        """Switch to the repository at ``path`` (index it, keep it fresh)."""
        path = Path(path).expanduser()
        problem = repo_problem(path)
        if problem is not None:
            self.show_message(problem)
            return False
        path = path.resolve()
        self.banner.dismiss()
        self.repo = path
        remember_repo(self.settings, path)
        try:
            self.services.save_settings(self.settings)
        except (OSError, GreenpairError) as exc:  # full disk; a settings file kept as it is
            self.show_message(describe_error(exc) or UserMessage("error", str(exc)))
        self.picker.set_recent(self.settings.recent_repos, path)
        self.setWindowTitle(f"Greenpair — {path.name}")
        self.assistant.set_repo(path)
        self.chat.clear()
        self.history.set_repo(path)
        self.index.open(path)
        self._update_buttons()
        return True

    def cancel_indexing(self) -> None:
        """Stop the index run (what was indexed is kept)."""
        self.index.cancel()

    def set_indexing_paused(self, paused: bool) -> None:
        """Pause or resume indexing (the tray's menu)."""
        self.index.set_paused(paused)
        if paused:
            self.index_status.set_idle("Indexing paused.")

    def _on_index_finished(self, stats: Any) -> None:
        if stats is None:
            self.index_status.set_idle("Indexing stopped. What was indexed is kept; "
                                       "it resumes when files change.")
            return
        files = stats.get("files", 0) if isinstance(stats, dict) else 0
        chunks = stats.get("chunks", 0) if isinstance(stats, dict) else 0
        self.index_status.set_idle(f"Index up to date: {files:,} files, {chunks:,} chunks.")

    def _on_index_refreshed(self, event: Any) -> None:
        """The watcher re-indexed files the user edited."""
        if event.error:
            problem = repo_problem(self.repo) if self.repo is not None else None
            self.show_message(problem or UserMessage(
                "warning", f"The index could not follow your last edits: {event.error}",
                "It catches up at the next change, or when you open the repository again."))
            return
        if not self.index.running:
            n = event.files_changed
            self.index_status.set_idle(
                f"Index up to date · {n} edited file{'s' if n != 1 else ''} re-read "
                f"in {event.duration_s:.1f} s.")

    def _on_index_failed(self, exc: BaseException) -> None:
        self.index_status.set_idle("The index could not be updated.")
        if self.repo is not None and repo_problem(self.repo) is not None:
            self.show_message(repo_problem(self.repo))  # type: ignore[arg-type]
            return
        message = describe_error(exc)
        if message is None:
            from greenpair.ui.workers import forward_error

            forward_error(exc)
            return
        self.show_message(message)

    # -- asking --------------------------------------------------------------------------

    def _ready_to_generate(self) -> bool:
        if self.repo is None:
            self.show_message(UserMessage("warning", "No repository is open.",
                                          "Open one with Open… (Ctrl+O)."))
            return False
        problem = repo_problem(self.repo)
        if problem is None and self.runtime is None:
            problem = model_problem(self.settings)
        if problem is not None:
            self.show_message(problem)
            return False
        return True

    def ask(self) -> None:
        """Ask the question in the input box."""
        question = self.input.toPlainText().strip()
        if question and not self.assistant.busy and self._ready_to_generate() \
                and self.assistant.ask(question):
            self.input.clear()
            self._note_index_wait()

    def propose(self) -> None:
        """Draft a patch for the change described in the input box."""
        task = self.input.toPlainText().strip()
        if task and not self.assistant.busy and self._ready_to_generate() \
                and self.assistant.propose(task, open_file=self.viewer.open_file(self.repo)):
            self.input.clear()
            self.side.setCurrentWidget(self.diff)
            self._note_index_wait()

    def _note_index_wait(self) -> None:
        # Searches run during an update, except before the first one completed.
        index = self.index.index
        if self.index.running and (index is None or not index.is_built()):
            self.chat.set_status("Waiting for the first indexing to finish, then reading "
                                 "the code…")

    def _propose_from(self, index: int) -> None:
        if not self.assistant.busy and self._ready_to_generate() \
                and self.assistant.propose_from(index,
                                                open_file=self.viewer.open_file(self.repo)):
            self.side.setCurrentWidget(self.diff)

    def _regenerate(self) -> None:
        if not self.assistant.busy and self._ready_to_generate():
            self.assistant.regenerate()

    def stop(self) -> None:
        """Stop the answer being written (Esc)."""
        self.assistant.stop()

    def focus_input(self) -> None:
        """Put the cursor in the question box (Ctrl+L)."""
        self.input.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_citation(self, path: str, start: int, end: int) -> None:
        """Show cited lines in the code viewer."""
        if self.repo is None:
            return
        old = self.chat.cited_text(path, start, end)
        if self.viewer.show_file(self.repo, path, start, end, old_text=old):
            self.side.setCurrentWidget(self.viewer)

    def _update_buttons(self) -> None:
        busy = self.assistant.busy
        has_repo = self.repo is not None
        self.send_button.setEnabled(has_repo and not busy)
        self.propose_button.setEnabled(has_repo and not busy)
        self.stop_button.setEnabled(busy)

    # -- messages and settings -----------------------------------------------------------

    def show_message(self, message: UserMessage) -> None:
        """Errors and warnings in the banner; information in the status bar."""
        if message.level == "info":
            self.status_label.setText(message.text)
            return
        action = None
        if is_model_problem(message):
            action = ("Open Settings", self.open_settings)
        elif is_repo_problem(message):
            action = ("Open a repository…", self.picker.browse)
        elif is_index_problem(message) and self.repo is not None:
            action = ("Rebuild the index", self.index.rebuild)
        self.banner.show_message(message, action)

    def _on_message(self, message: UserMessage) -> None:
        self.show_message(message)

    def _on_problem(self, message: UserMessage) -> None:
        if is_model_problem(message) or is_repo_problem(message):
            self.show_message(message)

    def switch_model(self, model: str) -> None:
        """Answer with ``model`` from now on (the conversation goes on with it)."""
        from greenpair.core.config import DEFAULT_MODEL

        settings = copy.deepcopy(self.settings)
        settings.model = model
        if model == DEFAULT_MODEL:
            settings.eco_mode = False  # the user asked for the default model itself
        self.apply_settings(settings)
        self.status_label.setText(f"Answers now come from {model}.")

    def open_energy(self) -> None:
        """Show the energy page (built on first use; it reads the ledger when shown)."""
        if self.energy_page is None:
            from greenpair.ui.energy.page import default_energy_page

            self.energy_page = default_energy_page(self.services, self)
        self.energy_page.show()
        self.energy_page.raise_()
        self.energy_page.activateWindow()

    def open_settings(self) -> None:
        """The settings dialog; saved on OK."""
        from greenpair.ui.settings.dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.apply_settings(dialog.settings())

    def apply_settings(self, settings: Settings) -> None:
        """Use and save new settings."""
        self.settings = settings
        self.index.settings = settings
        self.assistant.set_settings(settings)
        self.history.set_settings(settings)
        self.model_switch.set_settings(settings)
        try:
            self.services.save_settings(settings)
        except (OSError, GreenpairError) as exc:  # full disk; a settings file kept as it is
            self.show_message(describe_error(exc) or UserMessage("error", str(exc)))
            return
        self.status_label.setText("Settings saved.")

    # -- geometry and shutdown -----------------------------------------------------------

    def _restore_geometry(self) -> None:
        store = window_state_store()
        geometry = store.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = store.value("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save_geometry(self) -> None:
        """Remember size, position and the splitter."""
        store = window_state_store()
        store.setValue("geometry", self.saveGeometry())
        store.setValue("splitter", self.splitter.saveState())
        store.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember the geometry (the app quits, or stays in the tray)."""
        self.save_geometry()
        super().closeEvent(event)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop generation and indexing, wait for the workers, close the index.

        Returns:
            True when every worker stopped in time.
        """
        if self._shut_down:
            return True
        self._shut_down = True
        self.assistant.stop()
        self.caret.stop()
        self.index.shutdown()
        done = shutdown_workers(timeout_ms)
        self.index.close()
        self.history.close()
        if self.energy_page is not None:
            self.energy_page.close()
        self.bridge.posted.disconnect(self._on_message)
        if self._own_services:
            self.services.close()
        return done


def _model_switch(services: Services) -> Any:
    from greenpair.ui.window.model_switch import ModelSwitch

    def speeds() -> dict[str, float]:
        from greenpair.core.llm.choices import measured_speeds

        return measured_speeds(services.meter.ledger())

    from greenpair.core.llm.choices import free_memory_gb

    return ModelSwitch(services.settings, speeds=speeds, free_gb=free_memory_gb)


def repo_problem(path: Path) -> UserMessage | None:
    """Why ``path`` cannot be used as a repository (None when it can)."""
    if not path.exists():
        return UserMessage("error", f"The repository {path} is gone (moved or deleted).",
                           "Open it from its new place with Open… (Ctrl+O).")
    if not path.is_dir():
        return UserMessage("error", f"{path} is a file, not a folder.",
                           "Open the repository's top folder with Open… (Ctrl+O).")
    return None


def model_problem(settings: Settings) -> UserMessage | None:
    """Why no model can be loaded with ``settings`` (None when a file is there)."""
    if settings.remote_url:
        return None
    from greenpair.core.llm import model_store as store

    model = settings.effective_model()
    if store.find_model(model) is not None:
        return None
    return UserMessage("error", f"No model to answer with: {model} is not on this computer.",
                       "Open Settings → Models to pull it, or choose a GGUF file you have.")


def is_model_problem(message: UserMessage) -> bool:
    """Whether the fix is in the model settings."""
    text = (message.text + " " + message.hint).lower()
    return "model" in text and ("settings" in text or "pull" in text or "gguf" in text)


def is_index_problem(message: UserMessage) -> bool:
    """Whether rebuilding the index is the fix."""
    return "index" in message.text.lower() and "rebuild" in message.hint.lower()


def is_repo_problem(message: UserMessage) -> bool:
    """Whether the fix is to open a repository again."""
    return "repository" in message.text.lower() and "open" in message.hint.lower()
