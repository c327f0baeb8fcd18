"""Patch review in the window: diff shown, Apply, Undo, failures in plain words.

The drafts come from the real core (retrieval, tolerant matching, ``git apply --check``,
tree-sitter validation, backups) fed a known search/replace reply through ``FakeRuntime``
(the tiny model rarely writes a valid edit); one test runs the tiny real model end to end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.gui.window_helpers import type_and_send, wait_answer, wait_indexed
from tests.helpers.fake_runtime import FakeRuntime

EDIT = """src/shop/discounts.py
<<<<<<< SEARCH
    if code == "TENOFF":
=======
    if code == "QUARTER":
        return total * 0.75
    if code == "TENOFF":
>>>>>>> REPLACE
"""


def _draft(qtbot: Any, make_window: Any, repo: Path) -> Any:
    from greenpair.core.assistant.patch.drafting import PatchOptions

    window = make_window(runtime=FakeRuntime([EDIT]))
    # EDIT is a SEARCH/REPLACE reply: ask core for that format (its default is measured
    # per model and may be whole-function rewrites).
    window.assistant.patch_options = PatchOptions(format="search_replace")
    window.open_repo(repo)
    wait_indexed(qtbot, window)
    type_and_send(qtbot, window, "Add a QUARTER discount code worth 25% off", propose=True)
    wait_answer(qtbot, window)
    return window


def test_a_drafted_patch_is_shown_applied_and_undone(qtbot: Any, make_window: Any,
                                                     tmp_repo: Path) -> None:
    target = tmp_repo / "src/shop/discounts.py"
    original = target.read_bytes()
    window = _draft(qtbot, make_window, tmp_repo)
    diff = window.diff
    assert window.side.currentWidget() is diff
    assert diff.state == "ready"
    assert diff.files == ["src/shop/discounts.py"]
    assert '+    if code == "QUARTER":' in diff.unified.toPlainText()
    assert "QUARTER" in diff.right.toPlainText()
    assert target.read_bytes() == original  # nothing is written before Apply
    turn = window.chat.current
    assert turn is not None
    assert "Drafted a change" in turn.text
    assert "tokens" in turn.stats

    qtbot.mouseClick(diff.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: diff.state == "applied", timeout=30_000)
    assert b'if code == "QUARTER":' in target.read_bytes()
    assert diff.status.text().startswith("Applied to 1 file.")
    assert diff.undo_button.isEnabled()
    assert not diff.apply_button.isEnabled()

    qtbot.mouseClick(diff.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: diff.state == "undone", timeout=30_000)
    assert target.read_bytes() == original  # byte for byte
    assert diff.status.text() == "Undone: restored src/shop/discounts.py."


def test_applying_over_a_file_that_changed_is_refused_in_plain_words(
    qtbot: Any, make_window: Any, tmp_repo: Path
) -> None:
    window = _draft(qtbot, make_window, tmp_repo)
    target = tmp_repo / "src/shop/discounts.py"
    target.write_text(target.read_text().replace("TENOFF", "TEN_OFF"))  # edited meanwhile
    qtbot.mouseClick(window.diff.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.diff.status.text().startswith("The change was not applied"),
                    timeout=30_000)
    text = window.diff.status.text()
    assert "Traceback" not in text
    assert "Error" not in text.split(":")[0]
    assert "TEN_OFF" in target.read_text()  # the user's edit is untouched


def test_discard_leaves_the_files_alone(qtbot: Any, make_window: Any, tmp_repo: Path) -> None:
    target = tmp_repo / "src/shop/discounts.py"
    original = target.read_bytes()
    window = _draft(qtbot, make_window, tmp_repo)
    qtbot.mouseClick(window.diff.discard_button, Qt.MouseButton.LeftButton)
    assert window.diff.state == "discarded"
    assert window.diff.status.text() == "Discarded. Your files were not changed."
    assert not window.diff.apply_button.isEnabled()
    assert target.read_bytes() == original


def test_a_name_defined_twice_is_edited_in_the_file_the_user_has_open(
    qtbot: Any, make_window: Any, tmp_repo: Path
) -> None:
    for name in ("north", "south"):
        (tmp_repo / f"src/shop/{name}.py").write_text(
            "def round_total(total: float) -> float:\n"
            f'    """Round a {name} till total to cents."""\n'
            f"    return round(total, 2)  # {name} rounding\n")
    runtime = FakeRuntime(default_reply="")  # the prompt is what is checked
    window = make_window(runtime=runtime)
    window.open_repo(tmp_repo)
    wait_indexed(qtbot, window)
    for shown, other in (("north", "south"), ("south", "north")):
        assert window.viewer.show_file(tmp_repo, f"src/shop/{shown}.py", 1, 3)
        type_and_send(qtbot, window, "In round_total, round half up instead of to even",
                      propose=True)
        wait_answer(qtbot, window)
        prompt = runtime.prompts[-1]
        assert f"# {shown} rounding" in prompt
        assert f"# {other} rounding" not in prompt
    assert window.assistant.patch_options is None  # the open file is not kept as a setting


@pytest.mark.model
def test_the_tiny_model_end_to_end_reports_in_plain_words(qtbot: Any, make_window: Any,
                                                         tmp_repo: Path) -> None:
    from greenpair.core.assistant.patch.drafting import PatchOptions

    window = make_window()
    # Short replies keep the test quick; the plumbing is the same as with the defaults.
    window.assistant.patch_options = PatchOptions(max_tokens=160)
    window.open_repo(tmp_repo)
    wait_indexed(qtbot, window)
    type_and_send(qtbot, window, "In apply_discount, add a QUARTER code that returns "
                                 "total * 0.75", propose=True)
    wait_answer(qtbot, window)
    turn = window.chat.current
    assert turn is not None
    assert turn.state == "done"
    assert "tokens" in turn.stats
    status = window.diff.status.text()
    if window.diff.state == "ready":
        assert status.startswith("Not applied yet.")
    else:
        assert window.diff.state == "failed"
        assert status.startswith("No change could be drafted: ")
        assert len(status) > len("No change could be drafted: ") + 10
    assert "Traceback" not in status + window.chat.plain_text()
