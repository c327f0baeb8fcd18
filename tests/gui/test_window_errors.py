"""Errors in the window are clear messages with the fix, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from greenpair.core.config import index_dir
from greenpair.ui.settings.dialog import SettingsDialog
from greenpair.ui.window.main_window import MainWindow
from tests.gui.window_helpers import type_and_send, wait_indexed
from tests.helpers.fake_runtime import FakeRuntime


def _banner(window: MainWindow) -> str:
    assert not window.banner.isHidden(), "no message was shown"
    return window.banner.text()


def test_a_deleted_repository_is_explained_with_the_fix(qtbot: Any, make_window: Any,
                                                        tmp_repo: Path) -> None:
    window = make_window(runtime=FakeRuntime(["unused"]))
    window.open_repo(tmp_repo)
    wait_indexed(qtbot, window)
    shutil.rmtree(tmp_repo)
    type_and_send(qtbot, window, "Where is the cart?")
    text = _banner(window)
    assert "is gone (moved or deleted)" in text
    assert "Open… (Ctrl+O)" in text
    assert window.banner.action_button.text() == "Open a repository…"
    assert window.chat.turns == []  # nothing was started
    assert "Traceback" not in text


def test_opening_a_missing_folder_is_refused(make_window: Any, tmp_path: Path) -> None:
    window = make_window()
    assert not window.open_repo(tmp_path / "nowhere")
    assert "is gone" in _banner(window)
    assert window.repo is None
    assert not window.send_button.isEnabled()


def test_no_model_points_to_the_settings(qtbot: Any, make_window: Any, tmp_repo: Path,
                                         tmp_path: Path) -> None:
    window = make_window(model=str(tmp_path / "missing.gguf"))
    window.open_repo(tmp_repo)
    type_and_send(qtbot, window, "Where is the cart?")
    text = _banner(window)
    assert "No model to answer with" in text
    assert "Settings" in text
    assert window.banner.action_button.text() == "Open Settings"
    assert window.chat.turns == []


def test_a_corrupt_model_file_fails_in_plain_words(qtbot: Any, make_window: Any,
                                                   tmp_repo: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"this is not a GGUF model" * 100)
    window = make_window(model=str(broken))
    window.open_repo(tmp_repo)
    wait_indexed(qtbot, window)
    type_and_send(qtbot, window, "Where is the cart?")
    qtbot.waitUntil(lambda: not window.assistant.busy, timeout=60_000)
    turn = window.chat.current
    assert turn is not None
    assert turn.state == "error"
    assert "broken.gguf" in turn.error + turn.hint
    assert "Traceback" not in window.chat.plain_text()
    assert window.banner.action_button.text() == "Open Settings"


def test_a_corrupt_index_is_rebuilt_and_the_user_told(qtbot: Any, make_window: Any,
                                                      tmp_repo: Path) -> None:
    folder = index_dir(tmp_repo)
    (folder / "index.sqlite3").write_bytes(b"garbage, not a database" * 50)
    window = make_window()
    window.open_repo(tmp_repo)
    wait_indexed(qtbot, window)
    assert "rebuilds the index" in _banner(window)
    assert window.banner.message is not None
    assert window.banner.message.level == "warning"


def test_geometry_is_remembered(qtbot: Any, make_window: Any, greenpair_home: Path) -> None:
    window = make_window()
    window.resize(780, 510)
    window.close()
    assert (greenpair_home / "window.ini").is_file()
    again = make_window()
    assert (again.width(), again.height()) == (780, 510)


INTERACTIVE = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QPlainTextEdit,
               QTextEdit, QProgressBar, QTabWidget)


def _unnamed(root: QWidget) -> list[str]:
    found = [w for w in root.findChildren(QWidget) if isinstance(w, INTERACTIVE)]
    assert found
    return [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}" for w in found
            if not w.accessibleName() and not w.parent().inherits("QAbstractSpinBox")
            and not w.parent().inherits("QComboBox") and not w.inherits("QTabBar")]


def test_every_control_has_an_accessible_name(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    assert _unnamed(window) == []
    dialog = SettingsDialog(window.settings, window)
    qtbot.addWidget(dialog)
    assert _unnamed(dialog) == []


def test_the_window_follows_a_dark_palette(qtbot: Any, make_window: Any,
                                           tmp_repo: Path) -> None:
    from PySide6.QtGui import QTextFormat

    from tests.gui.test_diff_view import DIFF

    window = make_window()
    window.chat.begin_turn("q")
    window.chat.finish_turn(text="```python\nx = 1\n```", citations=[], stats="")
    window.diff.set_draft(DIFF, ["src/shop/discounts.py"])
    assert window.viewer.show_file(tmp_repo, "src/shop/cart.py", 3, 4)
    dark = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#202124"),
                         (QPalette.ColorRole.Base, "#181818"),
                         (QPalette.ColorRole.Text, "#e8eaed"),
                         (QPalette.ColorRole.WindowText, "#e8eaed")):
        dark.setColor(role, QColor(colour))
    window.setPalette(dark)
    assert "#1f2428" in window.chat.browser.toHtml().lower()  # the dark code background
    doc = window.diff.unified.document()
    added = [doc.findBlockByNumber(i).blockFormat().background().color().name()
             for i in range(doc.blockCount()) if doc.findBlockByNumber(i).text().startswith("+ ")]
    assert set(added) == {"#123d20"}
    cited = {s.format.background().color().name() for s in window.viewer.text.extraSelections()
             if s.format.property(QTextFormat.Property.FullWidthSelection)}
    assert cited == {"#3a3413"}


@pytest.mark.parametrize("key", ["Ctrl+O", "Ctrl+,"])
def test_shortcuts_are_bound(make_window: Any, key: str) -> None:
    from PySide6.QtGui import QKeySequence, QShortcut

    window = make_window()
    keys = {s.key().toString() for s in window.findChildren(QShortcut)}
    assert QKeySequence(key).toString() in keys
    assert {"Esc", "Ctrl+L", "Alt+1", "Alt+9"} <= keys


def test_the_caret_rests_after_a_while_and_wakes_on_typing(qtbot: Any) -> None:
    from PySide6.QtWidgets import QApplication, QPlainTextEdit

    from greenpair.ui.window.caret import CaretRest

    box = QPlainTextEdit()
    qtbot.addWidget(box)
    rest = CaretRest([box], rest_after_ms=50)
    try:
        qtbot.waitUntil(lambda: rest.resting, timeout=2000)
        qtbot.keyClick(box, "a")
        assert not rest.resting
        assert QApplication.cursorFlashTime() == rest.flash_ms
        qtbot.waitUntil(lambda: rest.resting, timeout=2000)
    finally:
        rest.stop()
    assert not rest.resting


def test_a_full_disk_is_explained(qtbot: Any, make_window: Any, tmp_repo: Path) -> None:
    import errno

    window = make_window(runtime=FakeRuntime())
    window.open_repo(tmp_repo)
    wait_indexed(qtbot, window)
    # What an index run raises when the data directory's disk fills up.
    window.index.failed.emit(OSError(errno.ENOSPC, "No space left on device", "index.sqlite3"))
    text = _banner(window)
    assert text.startswith("The disk is full (index.sqlite3).")
    assert "Free some disk space" in text
    assert window.index_status.label.text() == "The index could not be updated."
