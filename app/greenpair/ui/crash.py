"""Unexpected exceptions: logged to a file, shown in a dialog that gives the log path.

``install_hooks`` replaces ``sys.excepthook`` and ``threading.excepthook`` (as
qutebrowser's crash handler and napari's ``install_hooks`` do). A bug never shows a
traceback to the user: the dialog says what to do and where the details are.
User-facing errors (``GreenpairError``) never reach here; the workers route them to the
message bridge.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

from greenpair.core.config import logs_dir

log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

# Tests replace this to record the dialog instead of showing a modal box.
_dialog_hook: Callable[[str, Path], None] | None = None


def crash_log_path() -> Path:
    """The file unexpected errors are appended to."""
    return logs_dir() / "errors.log"


def write_crash_log(exc_type: type[BaseException], exc: BaseException,
                    tb: TracebackType | None) -> Path:
    """Append the traceback of an unexpected exception to the crash log.

    Returns:
        The log file's path.
    """
    path = crash_log_path()
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {stamp} (thread {threading.current_thread().name})\n{text}\n")
    except OSError:
        log.exception("cannot write the crash log %s", path)
    log.error("unexpected error (details in %s): %s", path, exc)
    return path


class _Notifier(QObject):
    """Brings a crash report from any thread to the GUI thread."""

    crashed = Signal(str, str)  # summary, log path

    @Slot(str, str)
    def _on_crashed(self, summary: str, path: str) -> None:
        show_crash_dialog(summary, Path(path))


_notifier: _Notifier | None = None


def show_crash_dialog(summary: str, path: Path) -> None:
    """Tell the user something went wrong and where the details are (GUI thread)."""
    if _dialog_hook is not None:
        _dialog_hook(summary, path)
        return
    box = QMessageBox(QMessageBox.Icon.Critical, "Greenpair — unexpected error",
                      "Something went wrong inside Greenpair. Your code and your work "
                      "are safe.")
    box.setInformativeText(
        f"{summary}\n\nThe details were saved to:\n{path}\n\n"
        "You can keep working. If it happens again, please report it with that file."
    )
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAccessibleName("Unexpected error")
    box.exec()


def report_exception(exc_type: type[BaseException], exc: BaseException,
                     tb: TracebackType | None) -> None:
    """Log an unexpected exception and show the crash dialog (from any thread)."""
    path = write_crash_log(exc_type, exc, tb)
    summary = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
    app = QApplication.instance()
    if app is None:
        return
    if _notifier is not None and threading.current_thread() is not threading.main_thread():
        _notifier.crashed.emit(summary, str(path))
    else:
        show_crash_dialog(summary, path)


def _excepthook(exc_type: type[BaseException], exc: BaseException,
                tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    report_exception(exc_type, exc, tb)


def _threading_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    report_exception(args.exc_type, args.exc_value, args.exc_traceback)


_saved: tuple[object, object] | None = None


def install_hooks() -> None:
    """Route unexpected exceptions of every thread to the log and the crash dialog."""
    global _notifier, _saved
    if _saved is not None:
        return
    _notifier = _Notifier()
    _notifier.crashed.connect(_notifier._on_crashed, Qt.ConnectionType.QueuedConnection)
    _saved = (sys.excepthook, threading.excepthook)
    sys.excepthook = _excepthook
    threading.excepthook = _threading_hook


def uninstall_hooks() -> None:
    """Restore the previous hooks."""
    global _notifier, _saved
    if _saved is None:
        return
    sys.excepthook, threading.excepthook = _saved  # type: ignore[assignment]
    _saved = None
    if _notifier is not None:
        _notifier.deleteLater()
        _notifier = None
