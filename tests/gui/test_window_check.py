"""The change pane says what the check ran: offered once per repository, then run on
every draft (real core: scratch copy, pytest in a network namespace, the repair loop fed
by ``FakeRuntime``); Apply stays allowed after a failed check.

With ``GREENPAIR_SAVE_SCREENSHOTS=DIR`` the pane is saved as ``check_failed.png`` and
``check_passed.png`` in DIR (the README's pictures come from this test).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from greenpair.core.assistant.check.prefs import load_prefs
from tests.gui.window_helpers import type_and_send, wait_answer, wait_indexed
from tests.helpers.check_repos import python_repo, tree_digest
from tests.helpers.fake_runtime import FakeRuntime
from tests.unit.core.check.test_check_repair import FILES, _reply

TIMEOUT_MS = 120_000


def _save(qtbot: Any, widget: Any, name: str) -> None:
    folder = os.environ.get("GREENPAIR_SAVE_SCREENSHOTS")
    if folder:
        qtbot.wait(200)  # let the layout settle after the output was folded
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(Path(folder) / name))


def test_the_change_pane_shows_a_failed_and_a_passed_check(qtbot: Any, make_window: Any,
                                                           tmp_path: Path) -> None:
    from greenpair.core.assistant.patch.drafting import PatchOptions

    repo = python_repo(tmp_path / "repo", FILES)
    before = tree_digest(repo)
    rt = FakeRuntime([_reply("a * b"), _reply("a * b"), _reply("a + b")])
    window = make_window(runtime=rt)
    window.resize(1100, 760)
    window.assistant.patch_options = PatchOptions(format="search_replace")
    window.open_repo(repo)
    wait_indexed(qtbot, window)
    diff = window.diff

    type_and_send(qtbot, window, "make add return the sum", propose=True)
    wait_answer(qtbot, window)
    assert diff.state == "ready"
    assert diff.check_button.isVisible()  # not asked yet: offered, not run
    assert diff.check_line.text().startswith("Not checked.")

    qtbot.mouseClick(diff.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: diff.check_line.text().startswith("Checked:"), timeout=TIMEOUT_MS)
    assert diff.check_line.text() == "Checked: static check passed · 1 test failed, 1 passed"
    assert diff.check_output.isVisible()
    assert "tests/test_ops.py::test_add" in diff.check_output.toPlainText()
    assert diff.apply_button.isEnabled()  # a failing patch can still be applied on purpose
    assert load_prefs(repo).allowed is True  # the answer is remembered
    assert tree_digest(repo) == before
    _save(qtbot, diff, "check_failed.png")

    type_and_send(qtbot, window, "make add return the sum", propose=True)
    qtbot.waitUntil(lambda: not window.assistant.busy and diff.state == "ready",
                    timeout=TIMEOUT_MS)
    assert diff.check_line.text() == "Checked: static check passed · 2 tests passed (2nd try)"
    assert not diff.check_button.isVisible()
    assert not diff.check_output.isVisible()  # collapsed after a pass
    qtbot.mouseClick(diff.output_toggle, Qt.MouseButton.LeftButton)
    assert diff.check_output.isVisible()
    assert "PASSED tests/test_ops.py::test_add" in diff.check_output.toPlainText()
    qtbot.mouseClick(diff.output_toggle, Qt.MouseButton.LeftButton)
    turn = window.chat.current
    assert turn is not None
    assert "Checked: static check passed · 2 tests passed (2nd try)." in turn.text
    _save(qtbot, diff, "check_passed.png")
