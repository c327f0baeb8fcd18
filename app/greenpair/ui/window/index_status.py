"""Index status: what the index is doing, a progress bar with an ETA, and Cancel.

The bar is hidden when nothing runs (an indeterminate bar animates with a timer, and
nothing may fire while the window is idle).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from greenpair.ui.window.stats import format_eta

PHASES = {
    "scan": "Scanning files",
    "lexical": "Reading code",
    "embed": "Embedding code for search",
    "cleanup": "Tidying the index",
}


def describe_progress(p: Any) -> tuple[str, int, int]:
    """Text, value and maximum for an ``IndexProgress`` (maximum 0: unknown)."""
    phase = getattr(p, "phase", "")
    if phase == "done":
        return (p.message or f"Indexed: {p.files_total:,} files, {p.chunks_total:,} chunks", 1, 1)
    name = PHASES.get(phase, phase.capitalize() or "Indexing")
    if phase == "embed" and p.chunks_total:
        done, total = p.chunks_done, p.chunks_total
        text = f"{name}: {done:,} of {total:,} chunks"
    elif p.files_total:
        done, total = p.files_done, p.files_total
        text = f"{name}: {done:,} of {total:,} files"
    else:
        done, total = 0, 0
        text = f"{name}…"
    eta = format_eta(getattr(p, "eta_s", None))
    if eta:
        text += f" · {eta}"
    return text, done, total


class IndexStatus(QWidget):
    """Shows index progress.

    Signals:
        cancel_requested(): The user pressed Cancel.
    """

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("No repository open.")
        self.label.setAccessibleName("Index status")
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Index progress")
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel indexing")
        self.cancel_button.setToolTip("Stop indexing (the index stays usable; it resumes later)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.set_idle("No repository open.")

    @property
    def running(self) -> bool:
        """Whether progress is being shown."""
        return not self.cancel_button.isHidden()

    def start(self, text: str = "Opening the index…") -> None:
        """An index run started."""
        self.label.setText(text)
        self.bar.setRange(0, 0)
        self.bar.show()
        self.cancel_button.show()

    def update_progress(self, progress: Any) -> None:
        """Show one ``IndexProgress``."""
        text, done, total = describe_progress(progress)
        self.label.setText(text)
        if getattr(progress, "phase", "") == "done":
            return
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        else:
            self.bar.setRange(0, 0)

    def set_idle(self, text: str) -> None:
        """Nothing runs: show ``text`` and hide the bar and Cancel."""
        self.label.setText(text)
        self.bar.hide()
        self.bar.setRange(0, 1)
        self.cancel_button.hide()
