"""Review a drafted patch: the diff in colour (unified, or side by side); Apply / Discard / Undo.

The view only shows and asks; applying and undoing are core's (``patch.apply_patch`` and
``patch.undo_last``), called by the main window, which reports back with ``set_state``
and ``show_status`` in plain words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from greenpair.ui.theme import Colours, colours

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Row:
    """One row of the side-by-side view.

    ``kind``: ``file``, ``hunk``, ``context``, ``change``, ``remove`` or ``add``.
    """

    kind: str
    left: str = ""
    right: str = ""
    left_no: int | None = None
    right_no: int | None = None


def side_by_side(diff: str) -> list[Row]:
    """Pair the old and new lines of a unified diff (removals beside their additions)."""
    rows: list[Row] = []
    minus: list[tuple[int, str]] = []
    plus: list[tuple[int, str]] = []
    old_no = new_no = 0

    def flush() -> None:
        for i in range(max(len(minus), len(plus))):
            left = minus[i] if i < len(minus) else None
            right = plus[i] if i < len(plus) else None
            kind = "change" if left and right else ("remove" if left else "add")
            rows.append(Row(kind, left[1] if left else "", right[1] if right else "",
                            left[0] if left else None, right[0] if right else None))
        minus.clear()
        plus.clear()

    old_left = new_left = 0  # lines still expected in the current hunk
    for line in diff.splitlines():
        if old_left > 0 or new_left > 0:
            if line.startswith("-"):
                minus.append((old_no, line[1:]))
                old_no, old_left = old_no + 1, old_left - 1
                continue
            if line.startswith("+"):
                plus.append((new_no, line[1:]))
                new_no, new_left = new_no + 1, new_left - 1
                continue
            if line.startswith(" ") or line == "":
                flush()
                rows.append(Row("context", line[1:], line[1:], old_no, new_no))
                old_no, new_no = old_no + 1, new_no + 1
                old_left, new_left = old_left - 1, new_left - 1
                continue
        flush()
        m = _HUNK.match(line)
        if m:
            old_no, new_no = int(m.group(1)), int(m.group(3))
            old_left = int(m.group(2)) if m.group(2) is not None else 1
            new_left = int(m.group(4)) if m.group(4) is not None else 1
            rows.append(Row("hunk", left=line, right=line))
        elif line.startswith("+++ "):
            path = line[4:].strip()
            rows.append(Row("file", left=path.removeprefix("b/")))
        # other lines ("--- a/…", "diff --git", "index …", "\ No newline…") add no row
    flush()
    return rows


def unified_lines(diff: str) -> list[tuple[str, str]]:
    """Each line of a unified diff with its kind: file, hunk, add, remove or context."""
    out: list[tuple[str, str]] = []
    old_left = new_left = 0
    for line in diff.splitlines():
        if old_left > 0 or new_left > 0:
            if line.startswith("-"):
                out.append((line, "remove"))
                old_left -= 1
                continue
            if line.startswith("+"):
                out.append((line, "add"))
                new_left -= 1
                continue
            if line.startswith(" ") or line == "":
                out.append((line, "context"))
                old_left, new_left = old_left - 1, new_left - 1
                continue
        m = _HUNK.match(line)
        if m:
            old_left = int(m.group(2)) if m.group(2) is not None else 1
            new_left = int(m.group(4)) if m.group(4) is not None else 1
            out.append((line, "hunk"))
        elif line.startswith("\\"):
            out.append((line, "context"))
        else:
            out.append((line, "file"))
    return out


def _fill(edit: QPlainTextEdit, lines: list[tuple[str, str]], c: Colours) -> None:
    """Write ``(text, kind)`` lines into ``edit``, each coloured by its kind."""
    backgrounds = {"add": c.added_bg, "remove": c.removed_bg, "change": None}
    edit.clear()
    cursor = QTextCursor(edit.document())
    cursor.beginEditBlock()
    for i, (text, kind) in enumerate(lines):
        block = QTextBlockFormat()
        char = QTextCharFormat()
        bg = backgrounds.get(kind)
        if bg:
            block.setBackground(QColor(bg))
        if kind == "hunk":
            char.setForeground(QColor(c.hunk_fg))
        elif kind == "file":
            char.setFontWeight(700)
        if i:
            cursor.insertBlock(block, char)
        else:
            cursor.setBlockFormat(block)
            cursor.setCharFormat(char)
        cursor.insertText(text, char)
    cursor.endEditBlock()
    edit.moveCursor(QTextCursor.MoveOperation.Start)


def _code_edit(name: str) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setReadOnly(True)
    edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    edit.setAccessibleName(name)
    return edit


class DiffView(QWidget):
    """The proposed change and the buttons to apply, discard or undo it.

    The check line under the diff says what the check ran ("static check passed · 14
    tests passed (2nd try)", "no tests found for this change", or what failed), with the
    output behind an expander; Apply stays allowed after a failed check.

    Signals:
        apply_requested(): Apply was clicked.
        discard_requested(): Discard was clicked.
        undo_requested(): Undo was clicked.
        check_requested(): "Run the tests" was clicked (the draft was not checked yet).
    """

    apply_requested = Signal()
    discard_requested = Signal()
    undo_requested = Signal()
    check_requested = Signal()

    STATES = ("empty", "drafting", "ready", "applied", "discarded", "failed", "undone")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.diff = ""
        self.files: list[str] = []
        self.state = "empty"
        self._title = QLabel("No change proposed yet. Describe one and press Ctrl+Shift+Enter.")
        self._title.setWordWrap(True)
        self._title.setAccessibleName("Proposed change")
        self.unified = _code_edit("Unified diff")
        self.left = _code_edit("Before the change")
        self.right = _code_edit("After the change")
        self.left.verticalScrollBar().valueChanged.connect(self.right.verticalScrollBar().setValue)
        self.right.verticalScrollBar().valueChanged.connect(self.left.verticalScrollBar().setValue)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.left)
        split.addWidget(self.right)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Diff display")
        self.tabs.addTab(self.unified, "Unified")
        self.tabs.addTab(split, "Side by side")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setAccessibleName("Apply the change")
        self.apply_button.setToolTip("Write the change to your files (it can be undone)")
        self.discard_button = QPushButton("Discard")
        self.discard_button.setAccessibleName("Discard the change")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAccessibleName("Undo the applied change")
        self.apply_button.clicked.connect(self.apply_requested)
        self.discard_button.clicked.connect(self.discard_requested)
        self.undo_button.clicked.connect(self.undo_requested)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Patch status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_line = QLabel("")
        self.check_line.setWordWrap(True)
        self.check_line.setAccessibleName("What the check ran")
        self.check_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_button = QPushButton("Run the tests")
        self.check_button.setAccessibleName("Check the change with the repository's tests")
        self.check_button.setToolTip("Runs this repository's tests on the change in a "
                                     "scratch copy, without network (asked once per "
                                     "repository)")
        self.check_button.clicked.connect(self.check_requested)
        self.output_toggle = QToolButton()
        self.output_toggle.setText("Output")
        self.output_toggle.setCheckable(True)
        self.output_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.output_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.output_toggle.setAccessibleName("Show the check's output")
        self.check_output = _code_edit("The check's output")
        self.check_output.setMaximumHeight(220)
        self.output_toggle.toggled.connect(self._on_output_toggled)
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_line, 1)
        check_row.addWidget(self.check_button)
        check_row.addWidget(self.output_toggle)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.undo_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(check_row)
        layout.addWidget(self.check_output)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.set_check(None)
        self.set_state("empty")

    def set_check(self, summary: str | None, *, status: str = "", output: str = "",
                  command: str = "", offer: bool = False) -> None:
        """Show what the check ran (None hides the line).

        Args:
            summary: core's one-line summary, shown as it is.
            status: The check's status ("passed", "failed", "timeout"…): the colour.
            output: The failing output (or the run's tail), behind the expander.
            command: The command that ran, shown in the tooltip.
            offer: Show "Run the tests" (the draft was not checked yet).
        """
        c = colours(self.palette())
        self.check_line.setVisible(summary is not None)
        self.check_button.setVisible(offer)
        self.check_output.setPlainText(output)
        self.output_toggle.setVisible(bool(output))
        self.output_toggle.setChecked(status in {"failed", "timeout", "error"} and bool(output))
        self._on_output_toggled(self.output_toggle.isChecked())
        if summary is None:
            return
        colour = {"passed": "#6fdd8b" if c.dark else "#1a7f37",
                  "failed": c.error_fg, "timeout": c.error_fg, "error": c.error_fg}.get(status)
        label = "Checked: " if status in {"passed", "failed", "timeout", "error",
                                          "no_tests"} else ""
        self.check_line.setStyleSheet(f"color: {colour};" if colour else "")
        self.check_line.setText(label + summary)
        self.check_line.setToolTip(f"Ran: {command}" if command else "")

    def _on_output_toggled(self, shown: bool) -> None:
        self.output_toggle.setArrowType(Qt.ArrowType.DownArrow if shown
                                        else Qt.ArrowType.RightArrow)
        self.check_output.setVisible(shown and bool(self.check_output.toPlainText()))

    def set_draft(self, diff: str, files: list[str]) -> None:
        """Show a drafted diff, ready to apply."""
        self.diff, self.files = diff, list(files)
        names = ", ".join(files) if files else "no file"
        self._title.setText(f"<b>Proposed change</b> to {names}")
        self._render()
        self.set_state("ready" if diff.strip() else "failed")

    def clear(self) -> None:
        """Forget the draft."""
        self.diff, self.files = "", []
        self.unified.clear()
        self.left.clear()
        self.right.clear()
        self._title.setText("No change proposed yet.")
        self.set_check(None)
        self.set_state("empty")

    def set_state(self, state: str) -> None:
        """Enable the buttons that make sense in ``state`` (one of ``STATES``)."""
        assert state in self.STATES, state
        self.state = state
        self.apply_button.setEnabled(state == "ready")
        self.discard_button.setEnabled(state in ("ready", "failed"))
        self.undo_button.setEnabled(state == "applied")

    def show_status(self, text: str, *, error: bool = False) -> None:
        """A plain-words outcome under the buttons (red for a failure)."""
        c = colours(self.palette())
        self.status.setStyleSheet(f"color: {c.error_fg};" if error else "")
        self.status.setText(text)

    def changeEvent(self, event: QEvent) -> None:
        """Re-colour when the system switches between light and dark."""
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) \
                and self.diff:
            self._render()
        super().changeEvent(event)

    def _render(self) -> None:
        c = colours(self.palette())
        _fill(self.unified, unified_lines(self.diff), c)
        rows = side_by_side(self.diff)
        width = max([len(str(r.left_no or "")) for r in rows] + [len(str(r.right_no or "")) for r in rows] + [1])

        def cell(no: int | None, text: str, kind: str) -> str:
            if kind in ("file", "hunk"):
                return text
            return f"{'' if no is None else no:>{width}}  {text}"

        left = [(cell(r.left_no, r.left, r.kind),
                 "remove" if r.kind in ("change", "remove") else r.kind) for r in rows]
        right = [(cell(r.right_no, r.right, r.kind) if r.kind != "file" else r.left,
                  "add" if r.kind in ("change", "add") else r.kind) for r in rows]
        for i, r in enumerate(rows):  # blank filler lines are not coloured
            if r.kind == "add":
                left[i] = ("", "context")
            elif r.kind == "remove":
                right[i] = ("", "context")
        _fill(self.left, left, c)
        _fill(self.right, right, c)
