"""Settings → Energy and privacy → *Run a privacy audit*: ``greenpair audit`` in a worker.

The panel runs core's traced session (``greenpair.core.audit.run_audit``) off the GUI
thread, shows which command is being traced, then the report: every connection attempted
beyond the machine, or "0 attempts".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from greenpair.ui.message_bridge import describe_error
from greenpair.ui.workers import CoreWorker, start_worker


class AuditPanel(QWidget):
    """A button that runs the privacy audit, its status line and the report.

    Args:
        recent_repos: The repositories opened lately (the first that exists is copied;
            with none, Greenpair's own code is).
        parent: The parent widget.
    """

    def __init__(self, recent_repos: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._recent = list(recent_repos)
        self._worker: CoreWorker | None = None
        self.result: Any = None  # the last AuditReport
        self.button = QPushButton("Run a privacy audit")
        self.button.setAccessibleName("Run a privacy audit")
        self.button.setToolTip(
            "Index, search, ask and patch a scratch copy of the repository with the small "
            "model, under a system-call tracer, and list every connection attempted")
        self.button.clicked.connect(self.run)
        self.status = QLabel(f"Audits a copy of {self.repo()} (needs strace).")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Privacy audit status")
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setAccessibleName("Privacy audit report")
        self.report.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.report.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.report.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.status)
        layout.addWidget(self.report)

    def repo(self) -> Path:
        """What the audit copies: the last repository opened, else Greenpair's own code."""
        for recent in self._recent:
            if Path(recent).is_dir():
                return Path(recent)
        import greenpair

        return Path(greenpair.__file__).parent

    @property
    def running(self) -> bool:
        """Whether an audit is in progress."""
        return self._worker is not None

    def run(self) -> None:
        """Start the audit in a worker (one at a time); the report appears when done."""
        from greenpair.core.audit import run_audit

        if self._worker is not None:
            return
        repo = self.repo()
        self.button.setEnabled(False)
        self.result = None
        self.status.setText(f"Auditing a scratch copy of {repo}…")
        self._worker = start_worker(
            run_audit, repo, on_yield=self._on_step, on_return=self._on_done,
            on_error=self._on_error, on_finish=self._on_finished, forward_errors=False,
            pass_cancel=True)

    def stop(self) -> None:
        """Cancel a running audit (its traced command is killed)."""
        if self._worker is not None:
            self._worker.quit()

    def _on_step(self, step: Any) -> None:
        self.status.setText(f"Step {step.number} of {step.total}: greenpair {step.name}, "
                            "traced…")

    def _on_done(self, report: Any) -> None:
        self.result = report
        self.status.setText(report.headline())
        self.report.setPlainText(report.to_text())
        self.report.setVisible(True)

    def _on_error(self, exc: BaseException) -> None:
        message = describe_error(exc)
        self.status.setText(message.full_text() if message else f"The audit failed: {exc}")

    def _on_finished(self) -> None:
        self._worker = None
        self.button.setEnabled(True)
