"""Drive the real window through one session, as a user would: open a repository, wait for
the index, ask a question, wait for the answer, stay open a while, quit.

Run as ``python -m tests.helpers.window_session REPO QUESTION LINGER_S`` (the egress test
runs it under strace in a network namespace). It builds the window the way
``greenpair gui`` does (``create_application`` + ``MainWindow`` on the saved settings)
and prints one JSON line: whether the index finished, the answer's state and length.
Everything waits on the window's own signals; a watchdog timer ends a stuck session.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer

from greenpair.core.config import load_settings
from greenpair.ui.app import create_application
from greenpair.ui.window.main_window import MainWindow

WATCHDOG_MS = 600_000


def main(argv: list[str]) -> int:
    """Run the session; 0 when the question was answered."""
    repo, question, linger_s = Path(argv[0]), argv[1], float(argv[2])
    app = create_application()
    window = MainWindow(load_settings())
    window.show()
    result: dict[str, Any] = {"indexed": False, "asked": False, "answer_state": None}

    def on_indexed(stats: Any) -> None:
        if result["indexed"]:
            return
        result["indexed"] = stats is not None
        window.input.setPlainText(question)
        window.ask()
        result["asked"] = window.assistant.busy

    def on_busy(busy: bool) -> None:
        if busy or not result["asked"] or result["answer_state"] is not None:
            return
        turn = window.chat.current
        result["answer_state"] = turn.state if turn else "none"
        result["answer_chars"] = len(turn.text) if turn else 0
        QTimer.singleShot(int(linger_s * 1000), app.quit)

    def on_failed(exc: Any) -> None:
        result["error"] = str(exc)
        app.quit()

    window.index.finished.connect(on_indexed)
    window.index.failed.connect(on_failed)
    window.assistant.busy_changed.connect(on_busy)
    QTimer.singleShot(WATCHDOG_MS + int(linger_s * 1000), app.quit)  # lingering is not stuck
    window.open_repo(repo)
    app.exec()
    window.shutdown()  # the window built its own services: this closes them
    sys.stdout.write(json.dumps(result) + "\n")
    return 0 if result["answer_state"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
