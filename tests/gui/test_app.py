"""Starting the app: ``run_app`` in a real process, the repository it opens, crash hooks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from greenpair.core.config import Settings
from greenpair.ui.app import default_repo

SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from greenpair.ui.app import create_application, run_app
from PySide6.QtWidgets import QApplication

app = create_application()
seen = []

def check():
    windows = [w for w in QApplication.topLevelWidgets() if w.windowTitle().startswith("Greenpair")]
    seen.extend(w.windowTitle() for w in windows)
    app.quit()

QTimer.singleShot(3000, check)
code = run_app(None)
print("TITLES", seen)
sys.exit(code)
"""


@pytest.mark.gui
def test_run_app_opens_the_window_on_the_current_repository(tmp_repo: Path,
                                                            greenpair_home: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GREENPAIR_HOME": str(greenpair_home)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_repo, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "Greenpair — repo" in result.stdout
    assert (greenpair_home / "logs" / "greenpair.log").is_file()
    assert "Traceback" not in result.stderr


def test_default_repo_is_the_current_repository_else_the_last_one(tmp_repo: Path,
                                                                 tmp_path: Path) -> None:
    inside = tmp_repo / "src" / "shop"
    assert default_repo(Settings(), cwd=inside) == tmp_repo.resolve()
    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    gone = str(tmp_path / "deleted")
    settings = Settings(recent_repos=[gone, str(tmp_repo)])
    assert default_repo(settings, cwd=elsewhere) == tmp_repo
    assert default_repo(Settings(), cwd=elsewhere) is None


def test_unexpected_exceptions_of_any_thread_are_logged_and_shown(
    qtbot: Any, crash_dialogs: Any, greenpair_home: Path
) -> None:
    from greenpair.ui import crash

    crash_dialogs.expect()
    crash.install_hooks()
    try:
        try:
            raise ZeroDivisionError("main thread bug")
        except ZeroDivisionError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        thread = threading.Thread(target=lambda: 1 / 0, name="buggy")
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: len(crash_dialogs) == 2, timeout=5000)
    finally:
        crash.uninstall_hooks()
    log = (greenpair_home / "logs" / "errors.log").read_text()
    assert "main thread bug" in log
    assert "thread buggy" in log
    assert all(path == greenpair_home / "logs" / "errors.log" for _, path in crash_dialogs)
