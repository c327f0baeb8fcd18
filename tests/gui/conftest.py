"""Fixtures of the window's tests (offscreen Qt; the root conftest sets the platform).

* ``crash_dialogs`` (autouse): the crash dialog is recorded instead of shown (a modal box
  would hang the test); a test that did not expect one fails.
* ``no_dangling_threads`` (autouse): after each test every worker has stopped and no
  thread started by the test is still running.
* ``bridge``: a fresh message bridge per test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


class CrashDialogs(list[tuple[str, Path]]):
    """Crash dialogs "shown" during a test (summary, log path)."""

    expected = False

    def expect(self) -> None:
        """This test provokes an unexpected exception on purpose."""
        self.expected = True


@pytest.fixture(autouse=True)
def crash_dialogs() -> Iterator[CrashDialogs]:
    from greenpair.ui import crash

    shown = CrashDialogs()
    crash._dialog_hook = lambda summary, path: shown.append((summary, path))
    yield shown
    crash._dialog_hook = None
    crash.uninstall_hooks()
    if not shown.expected:
        assert not shown, f"unexpected crash dialog(s): {shown}"


def _qt_workers_idle() -> bool:
    from PySide6.QtCore import QCoreApplication

    if QCoreApplication.instance() is None:
        return True
    from greenpair.ui.workers import shutdown_workers

    return shutdown_workers(10_000)


@pytest.fixture(autouse=True)
def no_dangling_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    assert _qt_workers_idle(), "a worker did not stop within 10 s"
    leftover = [
        t for t in threading.enumerate()
        if t not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
    ]
    for thread in leftover:
        thread.join(timeout=5)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"threads left running: {still}"


@pytest.fixture
def bridge(qtbot: Any) -> Iterator[Any]:
    """A message bridge that is also the process-wide one for the test."""
    from greenpair.ui import message_bridge

    message_bridge.reset_global_bridge()
    bridge = message_bridge.global_bridge()
    yield bridge
    message_bridge.reset_global_bridge()


@pytest.fixture
def make_window(qtbot: Any, bridge: Any, tiny_model_path: Path) -> Iterator[Any]:
    """Build main windows on the tiny real model (or a given runtime); shut them down."""
    from greenpair.core.config import Settings
    from greenpair.ui.window.main_window import MainWindow

    windows: list[MainWindow] = []

    def make(runtime: Any = None, **overrides: Any) -> MainWindow:
        settings = Settings(**{"model": str(tiny_model_path), **overrides})
        window = MainWindow(settings, runtime=runtime, bridge=bridge)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
