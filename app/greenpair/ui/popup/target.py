"""Where the popup's text comes from and where its suggestion goes.

* ``read_selection``: the X11 PRIMARY selection (the text selected anywhere on the
  desktop), else the clipboard; ``xclip`` is the fallback when Qt cannot read PRIMARY.
* ``active_window``/``paste_into``: remember the window that had focus before the popup
  opened, then give it focus back and send it Ctrl+V (Cmd+V on macOS). X11 goes through
  ``xdotool``; Windows and macOS through pynput. Wayland lets no client do either: the
  suggestion is copied and the user pastes.
* ``guess_language``: a language name for the popup's header.
* ``hook_event``: with ``GREENPAIR_TEST_HOOKS=1``, the popup's state as JSON lines under
  the data directory, for the end-to-end tests and the latency benchmark.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtGui import QClipboard, QGuiApplication

from greenpair.core.config import data_dir
from greenpair.ui.popup.hotkey import session_kind

log = logging.getLogger(__name__)

MAX_SELECTION_CHARS = 20_000
_TOOL_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Selection:
    """Captured text: ``origin`` is ``primary`` (still selected in the other app),
    ``clipboard`` or ``none``."""

    text: str
    origin: str


def _run(args: list[str]) -> str | None:
    """Run a helper tool; its stdout, or None when it is missing or fails."""
    if shutil.which(args[0]) is None:
        return None
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=_TOOL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("%s failed: %s", args[0], exc)
        return None
    return done.stdout if done.returncode == 0 else None


def read_selection() -> Selection:
    """The selected text (PRIMARY), else the clipboard's text."""
    clipboard = QGuiApplication.clipboard()
    primary = ""
    if clipboard.supportsSelection():
        primary = clipboard.text(QClipboard.Mode.Selection)
    elif session_kind() == "x11":
        primary = _run(["xclip", "-o", "-selection", "primary"]) or ""
    if primary.strip():
        return Selection(primary[:MAX_SELECTION_CHARS], "primary")
    text = clipboard.text(QClipboard.Mode.Clipboard)
    if text.strip():
        return Selection(text[:MAX_SELECTION_CHARS], "clipboard")
    return Selection(primary or text, "none")


def active_window() -> str | None:
    """An id of the window that has focus now (to paste into it later)."""
    kind = session_kind()
    if kind == "x11":
        wid = _run(["xdotool", "getactivewindow"]) or _run(["xdotool", "getwindowfocus"])
        return (wid.strip() or None) if wid else None
    if kind == "windows":
        import ctypes

        return str(ctypes.windll.user32.GetForegroundWindow())  # type: ignore[attr-defined]
    return None


def can_paste() -> bool:
    """Whether ``paste_into`` can send keys on this desktop."""
    kind = session_kind()
    if kind == "x11":
        return shutil.which("xdotool") is not None
    return kind in {"windows", "macos"}


def paste_into(window: str | None) -> bool:
    """Focus ``window`` and send the paste shortcut (the clipboard is already set).

    Runs in a helper thread: the GUI thread must stay free to serve the clipboard to the
    target application.

    Returns:
        Whether the keys were sent.
    """
    kind = session_kind()
    if kind == "x11":
        if window and _run(["xdotool", "windowactivate", "--sync", window]) is None:
            # No window manager, or one without _NET_ACTIVE_WINDOW: set the focus.
            _run(["xdotool", "windowfocus", "--sync", window])
        return _run(["xdotool", "key", "--clearmodifiers", "ctrl+v"]) is not None
    if kind in {"windows", "macos"}:
        if kind == "windows" and window:
            import ctypes

            ctypes.windll.user32.SetForegroundWindow(int(window))  # type: ignore[attr-defined]
            time.sleep(0.05)  # let the foreground change land before the keys
        from pynput.keyboard import Controller, Key

        keys = Controller()
        modifier = Key.cmd if kind == "macos" else Key.ctrl
        with keys.pressed(modifier):
            keys.press("v")
            keys.release("v")
        return True
    return False


GUESSED_LANGUAGES = ("python", "javascript", "typescript", "go", "rust", "java", "c", "cpp",
                     "ruby", "php", "bash")


def guess_language(text: str, path: str | None = None) -> str | None:
    """The language of ``text``: from ``path`` when known, else the grammar that parses it
    with the fewest errors (None for prose)."""
    from greenpair.core.repo.languages import detect_language, parse_errors

    if path:
        lang = detect_language(path)
        if lang:
            return lang
    from greenpair.core.assistant.suggest.suggestion import looks_like_code

    if not text.strip() or not looks_like_code(text):
        return None
    sample = text[:4000]
    best: tuple[int, str] | None = None
    for lang in GUESSED_LANGUAGES:
        errors = parse_errors(lang, sample)
        if errors is not None and (best is None or errors < best[0]):
            best = (errors, lang)
            if errors == 0:
                break
    return best[1] if best else None


def hooks_enabled() -> bool:
    """Whether the test hooks are on (``GREENPAIR_TEST_HOOKS=1``)."""
    return os.environ.get("GREENPAIR_TEST_HOOKS") == "1"


def hook_path() -> Path:
    """The JSON-lines file the popup's test hook writes."""
    return data_dir() / "test-hooks" / "popup.jsonl"


def hook_event(event: str, **data: Any) -> None:
    """Record a popup event (only with the test hooks on)."""
    if not hooks_enabled():
        return
    path = hook_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"event": event, "t": time.monotonic(), "pid": os.getpid(), **data}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def platform_paste_hint() -> str:
    """How the user pastes by hand here."""
    return "Cmd+V" if sys.platform == "darwin" else "Ctrl+V"
