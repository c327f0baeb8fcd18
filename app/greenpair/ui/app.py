"""Start the desktop application: ``greenpair`` (or ``greenpair gui``) lands here."""

from __future__ import annotations

import logging
import subprocess
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from greenpair import __version__
from greenpair.core.config import Settings, logs_dir
from greenpair.core.errors import GreenpairError
from greenpair.core.services import Services
from greenpair.ui import crash
from greenpair.ui.theme import app_icon

log = logging.getLogger(__name__)


def _log_to_file() -> None:
    """Keep a rotating log in the data directory (what the crash dialog points at)."""
    root = logging.getLogger("greenpair")
    if any(isinstance(h, RotatingFileHandler) for h in root.handlers):
        return
    handler = RotatingFileHandler(logs_dir() / "greenpair.log", maxBytes=1 << 20,
                                  backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)


def default_repo(settings: Settings, cwd: Path | None = None) -> Path | None:
    """The repository to open: the one holding ``cwd``, else the last one used."""
    cwd = cwd or Path.cwd()
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd,
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        top = None
    if top is not None and top.returncode == 0 and top.stdout.strip():
        return Path(top.stdout.strip())
    for recent in settings.recent_repos:
        if Path(recent).is_dir():
            return Path(recent)
    return None


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused when one exists), named and with its icon."""
    app = QApplication.instance()
    if app is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts, True)
        app = QApplication(argv if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Greenpair")
    app.setApplicationDisplayName("Greenpair")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("greenpair")
    app.setWindowIcon(app_icon())
    return app


def run_app(repo: Path | None = None, minimised: bool = False) -> int:
    """Open the window (on ``repo``, the current repository, or the last one used).

    Args:
        repo: The repository to open.
        minimised: Start in the tray (when there is one).

    Returns:
        The exit status.
    """
    _log_to_file()
    app = create_application()
    crash.install_hooks()
    try:
        services = Services.build()  # the window, tray and popup share them
    except GreenpairError as exc:
        QMessageBox.critical(None, "Greenpair", f"{exc.message}\n\n{exc.hint or ''}".strip())
        return 1
    settings = services.settings

    from greenpair.ui.window.main_window import MainWindow

    window = MainWindow(services=services)
    try:
        from greenpair.ui.tray.desktop import install_desktop_integration
    except ImportError as exc:
        log.info("no tray or hotkey integration (%s)", exc)
        window.show()
    else:
        # Shows the window (or keeps it in the tray); owned by the application.
        install_desktop_integration(app, window, minimised=minimised)
    target = repo or default_repo(settings)
    from greenpair.ui.window import welcome

    if welcome.needed(settings):  # first run: pull a model, then index
        welcome.show_welcome(window, settings,
                             then=lambda: target is not None and window.open_repo(target))
    elif target is not None:
        window.open_repo(target)
    app.aboutToQuit.connect(window.shutdown)
    try:
        return app.exec()
    finally:
        crash.uninstall_hooks()
        services.close()
