"""The diff view: colour, side by side, and the Apply / Discard / Undo buttons."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from greenpair.ui.review.diff_view import DiffView, Row, side_by_side, unified_lines
from greenpair.ui.theme import colours

DIFF = """\
diff --git a/src/shop/discounts.py b/src/shop/discounts.py
--- a/src/shop/discounts.py
+++ b/src/shop/discounts.py
@@ -5,4 +5,6 @@ def apply_discount(total, code):
     if code == "HALF":
         return total / 2
-    if code == "TENOFF":
+    if code == "QUARTER":
+        return total * 0.75
+    if code == "TENOFF":
         return max(0, total - 10)
"""


def test_side_by_side_pairs_removals_with_additions() -> None:
    rows = side_by_side(DIFF)
    assert rows[0] == Row("file", left="src/shop/discounts.py")
    assert rows[1].kind == "hunk"
    assert rows[2] == Row("context", '    if code == "HALF":', '    if code == "HALF":', 5, 5)
    changed = [r for r in rows if r.kind in ("change", "add", "remove")]
    assert changed[0] == Row("change", '    if code == "TENOFF":', '    if code == "QUARTER":', 7, 7)
    assert [r.kind for r in changed] == ["change", "add", "add"]
    assert rows[-1].left_no == 8
    assert rows[-1].right_no == 10


def test_a_removed_line_that_looks_like_a_header_stays_a_removal() -> None:
    diff = "--- a/q.sql\n+++ b/q.sql\n@@ -1,2 +1,1 @@\n--- comment\n x\n"
    kinds = [k for _, k in unified_lines(diff)]
    assert kinds == ["file", "file", "hunk", "remove", "context"]
    assert side_by_side(diff)[2] == Row("remove", "-- comment", "", 1, None)


def test_lines_are_coloured_and_buttons_follow_the_state(qtbot: Any) -> None:
    view = DiffView()
    qtbot.addWidget(view)
    assert not view.apply_button.isEnabled()
    assert not view.undo_button.isEnabled()
    view.set_draft(DIFF, ["src/shop/discounts.py"])
    c = colours(view.palette())
    doc = view.unified.document()
    backgrounds = {doc.findBlockByNumber(i).text(): doc.findBlockByNumber(i).blockFormat()
                   .background().color().name() for i in range(doc.blockCount())}
    assert backgrounds['+    if code == "QUARTER":'] == c.added_bg
    assert backgrounds['-    if code == "TENOFF":'] == c.removed_bg
    assert "QUARTER" in view.right.toPlainText()
    assert "QUARTER" not in view.left.toPlainText()
    assert view.apply_button.isEnabled()
    assert view.discard_button.isEnabled()
    with qtbot.waitSignal(view.apply_requested, timeout=1000):
        qtbot.mouseClick(view.apply_button, Qt.MouseButton.LeftButton)
    view.set_state("applied")
    assert view.undo_button.isEnabled()
    assert not view.apply_button.isEnabled()
    with qtbot.waitSignal(view.undo_requested, timeout=1000):
        qtbot.mouseClick(view.undo_button, Qt.MouseButton.LeftButton)
    view.show_status("It failed because the file changed.", error=True)
    assert view.status.text() == "It failed because the file changed."
