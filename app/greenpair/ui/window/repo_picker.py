"""The repository picker: recent repositories (kept in core Settings) and "Open…"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QWidget


class RepoPicker(QWidget):
    """A combo box of recent repositories and a button to open another folder.

    Signals:
        repo_chosen(object): The user picked a repository (a ``Path``).
    """

    repo_chosen = Signal(object)

    def __init__(self, recent: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setAccessibleName("Repository")
        self.combo.setToolTip("Recent repositories")
        self.combo.setMinimumContentsLength(24)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.open_button = QPushButton("Open…")
        self.open_button.setAccessibleName("Open a repository")
        self.open_button.setToolTip("Open another repository folder (Ctrl+O)")
        self.open_button.clicked.connect(self.browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.open_button)
        self.set_recent(recent)
        self.combo.activated.connect(self._on_activated)

    def set_recent(self, recent: list[str], current: Path | None = None) -> None:
        """Fill the list (most recent first) and select ``current``."""
        self.combo.blockSignals(True)
        self.combo.clear()
        if not recent:
            self.combo.addItem("No repository yet: press Open…", None)
        for path in recent:
            self.combo.addItem(Path(path).name or path, path)
            self.combo.setItemData(self.combo.count() - 1, path, 3)  # ToolTipRole
        if current is not None:
            index = self.combo.findData(str(current))
            if index >= 0:
                self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)

    def current(self) -> Path | None:
        """The selected repository."""
        data = self.combo.currentData()
        return Path(data) if data else None

    def browse(self) -> None:
        """Ask for a folder and choose it."""
        start = str(self.current() or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a repository", start)
        if folder:
            self.repo_chosen.emit(Path(folder))

    def _on_activated(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data:
            self.repo_chosen.emit(Path(data))
