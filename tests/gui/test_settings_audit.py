"""Settings → Energy and privacy → Run a privacy audit: the real traced session runs in a
worker and its report is shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from greenpair.core.config import Settings
from greenpair.ui.settings.dialog import SettingsDialog
from tests.helpers.egress import require_tracing


@pytest.mark.model
@pytest.mark.slow
def test_the_audit_button_runs_the_traced_session_and_shows_the_report(
    qtbot: Any, tmp_repo: Path, tiny_model_path: Path
) -> None:
    require_tracing()
    dialog = SettingsDialog(Settings(recent_repos=[str(tmp_repo)]))
    qtbot.addWidget(dialog)
    assert str(tmp_repo) in dialog.audit.status.text()
    qtbot.mouseClick(dialog.audit.button, Qt.MouseButton.LeftButton)
    assert not dialog.audit.button.isEnabled()  # one audit at a time; the GUI stays live
    qtbot.waitUntil(lambda: dialog.audit.button.isEnabled(), timeout=1_800_000)
    report = dialog.audit.result
    assert report is not None, dialog.audit.status.text()
    assert report.clean
    assert dialog.audit.status.text() == ("Clean: 0 attempts to leave this machine, and every "
                                          "step ran to its expected end.")
    assert dialog.audit.report.isVisible() or not dialog.isVisible()
    assert "0 attempts" in dialog.audit.report.toPlainText()
    assert "patch --apply" in dialog.audit.report.toPlainText()


def test_without_strace_the_dialog_says_how_to_install_it(
    qtbot: Any, tmp_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    dialog = SettingsDialog(Settings(recent_repos=[str(tmp_repo)]))
    qtbot.addWidget(dialog)
    dialog.audit.run()
    qtbot.waitUntil(lambda: dialog.audit.button.isEnabled(), timeout=30_000)
    assert dialog.audit.result is None
    assert "needs strace" in dialog.audit.status.text()
    assert "apt-get install strace" in dialog.audit.status.text()


def test_with_no_repository_opened_it_audits_greenpairs_own_code(qtbot: Any) -> None:
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    assert (dialog.audit.repo() / "core" / "audit.py").is_file()
