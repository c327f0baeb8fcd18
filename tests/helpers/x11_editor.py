"""A minimal text editor for the X11 tests: another application holding text.

``python -m tests.helpers.x11_editor OUT TEXT`` shows a window titled ``Test editor``
with a text field holding TEXT and writes the field's content to OUT on every change, so
a test can see what was pasted into it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QPlainTextEdit


def main() -> int:
    out, text = Path(sys.argv[1]), sys.argv[2]
    app = QApplication(sys.argv[:1])
    editor = QPlainTextEdit()
    editor.setWindowTitle("Test editor")
    editor.setFont(QFont("DejaVu Sans Mono", 11))
    editor.setPlainText(text)
    editor.textChanged.connect(lambda: out.write_text(editor.toPlainText(), encoding="utf-8"))
    editor.setGeometry(40, 60, 560, 300)
    editor.show()
    out.write_text(editor.toPlainText(), encoding="utf-8")
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
