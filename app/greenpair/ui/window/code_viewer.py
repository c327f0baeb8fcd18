"""A read-only code viewer opened at the cited lines, highlighted, with "Open in editor".

The file is lexed once with Pygments (so multi-line strings and comments are coloured
right) and the formats are applied per line by a ``QSyntaxHighlighter``. The cited
lines get a background; the view scrolls so they are in sight. A line-number gutter is
painted beside the text.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from greenpair.ui.theme import colours

log = logging.getLogger(__name__)

MAX_HIGHLIGHT_BYTES = 300_000


class _LineFormats(QSyntaxHighlighter):
    """Applies precomputed per-line formats (lexed once for the whole file)."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.lines: list[list[tuple[int, int, QTextCharFormat]]] = []

    def highlightBlock(self, text: str) -> None:
        number = self.currentBlock().blockNumber()
        if number < len(self.lines):
            for start, length, fmt in self.lines[number]:
                self.setFormat(start, length, fmt)


def lex_lines(text: str, filename: str, style_name: str) -> list[list[tuple[int, int, QTextCharFormat]]]:
    """Formats per line: ``(utf16_start, utf16_length, format)`` spans.

    Args:
        text: The file's text.
        filename: Used to pick the lexer.
        style_name: A Pygments style.
    """
    from pygments.lexers import get_lexer_for_filename
    from pygments.styles import get_style_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_for_filename(filename, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return []
    style = get_style_by_name(style_name)
    cache: dict[object, QTextCharFormat | None] = {}
    lines: list[list[tuple[int, int, QTextCharFormat]]] = [[]]
    col = 0
    for ttype, value in lexer.get_tokens(text):
        if ttype not in cache:
            cache[ttype] = _char_format(style.style_for_token(ttype))
        fmt = cache[ttype]
        for i, piece in enumerate(value.split("\n")):
            if i:
                lines.append([])
                col = 0
            width = len(piece.encode("utf-16-le")) // 2
            if fmt is not None and width:
                lines[-1].append((col, width, fmt))
            col += width
    return lines


def _char_format(spec: dict[str, object]) -> QTextCharFormat | None:
    if not spec.get("color") and not spec.get("bold") and not spec.get("italic"):
        return None
    fmt = QTextCharFormat()
    if spec.get("color"):
        fmt.setForeground(QColor(f"#{spec['color']}"))
    if spec.get("bold"):
        fmt.setFontWeight(QFont.Weight.Bold)
    if spec.get("italic"):
        fmt.setFontItalic(True)
    return fmt


class CodeText(QPlainTextEdit):
    """A read-only text view with a line-number gutter."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self._gutter = QWidget(self)
        self._gutter.paintEvent = self._paint_gutter  # type: ignore[method-assign]
        self.blockCountChanged.connect(self._update_margins)
        self.updateRequest.connect(self._on_update_request)
        self._update_margins()

    def gutter_width(self) -> int:
        """Width of the line numbers."""
        digits = len(str(max(1, self.blockCount())))
        return 12 + self.fontMetrics().horizontalAdvance("9") * digits

    def _update_margins(self) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        cr = self.contentsRect()
        self._gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def _paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self._gutter)
        pal = self.palette()
        painter.fillRect(event.rect(), pal.alternateBase())
        painter.setPen(QColor(colours(pal).muted))
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible():
                painter.drawText(0, top, self._gutter.width() - 6, height,
                                 Qt.AlignmentFlag.AlignRight, str(block.blockNumber() + 1))
            top += round(self.blockBoundingRect(block).height())
            block = block.next()
        painter.end()

    def sizeHint(self) -> QSize:
        """A comfortable default size."""
        return QSize(560, 400)


class CodeViewer(QWidget):
    """Shows one file of the repository at the cited lines.

    Signals:
        message(str): A problem to show the user (file gone, editor failed).
    """

    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.repo: Path | None = None
        self.path: str | None = None
        self.start_line = 0
        self.end_line = 0
        self.changed_note = ""  # why the shown lines differ from the cited ones
        self._loaded = ""
        self._title = QLabel("No file open. Click a citation in an answer to see the code.")
        self._title.setWordWrap(True)
        self._title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._title.setAccessibleName("Cited file and lines")
        self._open = QPushButton("Open in editor")
        self._open.setToolTip("Open the file at this line in $VISUAL / $EDITOR (Ctrl+E)")
        self._open.setAccessibleName("Open in editor")
        self._open.setShortcut("Ctrl+E")
        self._open.setEnabled(False)
        self._open.clicked.connect(self.open_in_editor)
        self.text = CodeText(self)
        self.text.setAccessibleName("Code viewer")
        self._highlighter = _LineFormats(self.text.document())
        self.text.hide()  # until a citation is opened: the title explains what goes here
        top = QHBoxLayout()
        top.addWidget(self._title, 1)
        top.addWidget(self._open)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        layout.addStretch(0)

    def show_file(self, repo: Path, path: str, start_line: int, end_line: int, *,
                  old_text: str = "") -> bool:
        """Show ``path`` (repository-relative) with lines ``start..end`` highlighted.

        Args:
            repo: The repository root.
            path: The cited file.
            start_line: First cited line (1-based).
            end_line: Last cited line.
            old_text: The cited lines' text when the answer was written: if the file
                changed since, the nearest match is shown and the title says so.

        Returns:
            False (and a plain-words ``message``) when the file cannot be shown.
        """
        problem = self._load(repo, path)
        if problem is not None:
            self.message.emit(problem)
            return False
        count = self.text.blockCount()
        note = ""
        if old_text:
            from greenpair.core.conversations.relocate import relocate

            found = relocate(old_text, start_line, end_line, self.text.toPlainText())
            if found is None:
                note = (" — the file changed since the answer and the cited lines are not "
                        "in it any more; showing where they were")
            elif not found.exact:
                note = (f" — the file changed since the answer; showing the nearest match "
                        f"({found.ratio:.0%} alike; cited as lines {start_line}-{end_line})")
            elif found.start_line != start_line:
                note = (f" — the file changed since the answer; the cited lines moved from "
                        f"line {start_line}")
            if found is not None:
                start_line, end_line = found.start_line, found.end_line
        start = min(max(1, start_line), count)
        end = min(max(start, end_line), count)
        self.start_line, self.end_line = start, end
        label = f"{path}:{start}-{end}" if end != start else f"{path}:{start}"
        if not note and start_line > count:
            note = f" — the file now has {count} lines; it changed since the answer"
        self.changed_note = note
        self._title.setText(f"<b>{label}</b>{note}")
        self._mark(start, end)
        self._scroll_to(start, end)
        self._open.setEnabled(True)
        return True

    def open_file(self, repo: Path | None) -> str | None:
        """The file shown, relative to ``repo`` (None: nothing of ``repo`` is shown)."""
        if repo is None or self.repo is None or self.path is None:
            return None
        return self.path if self.repo == repo.resolve() else None

    def _load(self, repo: Path, path: str) -> str | None:
        root = repo.resolve()
        file = (root / path).resolve()
        if not file.is_relative_to(root):
            return f"The citation {path} points outside the repository; it was not opened."
        if not file.is_file():
            return (f"{path} is not in the repository any more (moved or deleted). "
                    "The index catches up on its own; ask again for fresh citations.")
        try:
            data = file.read_bytes()
        except OSError as exc:
            return f"Cannot read {path}: {exc.strerror or exc}."
        text = data.decode("utf-8", errors="replace")
        if self.repo != root or self.path != path or text != self._loaded:
            self._loaded = text  # reloaded when the file changed since it was shown
            self.text.setPlainText(text)
            style = colours(self.palette()).pygments_style
            lines = lex_lines(text, path, style) if len(data) <= MAX_HIGHLIGHT_BYTES else []
            self._highlighter.lines = lines
            self._highlighter.rehighlight()
        self.repo, self.path = root, path
        self.text.show()
        return None

    def changeEvent(self, event: QEvent) -> None:
        """Re-colour when the system switches between light and dark."""
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) \
                and self.repo is not None and self.path is not None:
            repo, path = self.repo, self.path
            self.path = None  # forces the file to be lexed again with the new style
            self.show_file(repo, path, self.start_line, self.end_line)
        super().changeEvent(event)

    def _mark(self, start: int, end: int) -> None:
        doc = self.text.document()
        background = QColor(colours(self.palette()).cited_bg)
        selections = []
        # One full-width selection per line: the reliable way to colour whole lines.
        for number in range(start - 1, min(end, start + 2000)):
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(background)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.cursor = QTextCursor(doc.findBlockByNumber(number))
            selections.append(selection)
        self.text.setExtraSelections(selections)
        self.text.setTextCursor(QTextCursor(doc.findBlockByNumber(start - 1)))

    def _scroll_to(self, start: int, end: int) -> None:
        bar = self.text.verticalScrollBar()
        # QPlainTextEdit scrolls by lines: show a little context above the citation.
        bar.setValue(max(0, start - 1 - 3))

    def first_visible_line(self) -> int:
        """The 1-based number of the top visible line."""
        return self.text.firstVisibleBlock().blockNumber() + 1

    def open_in_editor(self) -> None:
        """Open the file in the user's editor at the first cited line."""
        if self.repo is None or self.path is None:
            return
        from greenpair.ui.window.editor import open_in_editor

        problem = open_in_editor(self.repo / self.path, self.start_line)
        if problem:
            self.message.emit(problem)
