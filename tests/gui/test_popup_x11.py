"""End to end under Xvfb: select text in another app, press the hotkey, paste the suggestion.

The real Greenpair runs as a subprocess (``greenpair gui``) with the tiny real model, a
tray host is running, and a separate editor process holds the text. Everything is driven
from outside with xdotool, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.x11 import GreenpairApp, XDisplay, tray_host, wait_for, xvfb

pytestmark = [pytest.mark.x11, pytest.mark.model, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = os.environ.get("GREENPAIR_SCREENSHOTS")  # a directory: save the popup
TEXT = "def add(a, b):\n    return"
POPUP = "Greenpair suggestion"


@pytest.fixture
def display() -> Iterator[XDisplay]:
    with xvfb() as disp, tray_host(disp):
        yield disp


@pytest.fixture
def app(display: XDisplay, greenpair_home: Path, tmp_path: Path,
        tiny_model_path: Path) -> Iterator[GreenpairApp]:
    running = GreenpairApp(display, greenpair_home, tmp_path)
    running.cli("config", "set", "model", str(tiny_model_path))
    yield running
    running.stop()


@pytest.fixture
def editor(display: XDisplay, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Another X client holding text; yields its window id and the file mirroring it."""
    out = tmp_path / "editor.txt"
    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.x11_editor", str(out), TEXT],
                            env=display.env, cwd=ROOT)
    try:
        window = wait_for(lambda: display.find_windows("^Test editor$"), timeout=20,
                          what="the editor window")[0]
        yield window, out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _select_all_in(display: XDisplay, window: str) -> None:
    display.xdotool("windowfocus", "--sync", window)
    display.xdotool("mousemove", "--window", window, "120", "60", "click", "1")
    display.xdotool("key", "ctrl+a")  # the selection becomes X11's PRIMARY


def _wait_for_focus(display: XDisplay, windows: list[str]) -> None:
    """The popup takes the keyboard focus; under load it is mapped a little before it is
    focused, so wait for the focus (a popup that never takes it fails here)."""
    wait_for(lambda: display.xdotool("getwindowfocus", check=False).strip() in windows,
             timeout=10, what="the popup to take the keyboard focus")


def _suggestion(app: GreenpairApp, display: XDisplay, after: int) -> dict[str, Any]:
    """Wait for a pasteable suggestion; Tab to the next mode while there is none."""
    for _ in range(3):
        done = app.wait_event("finished", after=after, timeout=120)
        if done["text"].strip() and done["mode"] in {"complete", "fix"}:
            return done
        after = len(app.events())
        display.xdotool("key", "Tab")
    raise AssertionError(f"no pasteable suggestion: {app.events()}")


def test_hotkey_popup_streams_and_enter_pastes_into_the_other_app(
    display: XDisplay, app: GreenpairApp, editor: tuple[str, Path], tmp_repo: Path
) -> None:
    ready = app.start("--minimised", "--repo", str(tmp_repo))
    assert ready["hotkey"] is True
    window, mirror = editor
    _select_all_in(display, window)

    seen = len(app.events())
    display.xdotool("key", "ctrl+alt+space")  # while the editor has the focus
    shown = app.wait_event("shown", after=seen, timeout=20)
    assert shown["origin"] == "primary"
    assert shown["chars"] == len(TEXT)
    popups = wait_for(lambda: display.find_windows(f"^{POPUP}$"), timeout=10,
                      what="the popup window")
    _wait_for_focus(display, popups)  # it took the keyboard
    # The first mode's reply may be empty (then "finished" comes without a token, and
    # _suggestion tabs on): wait for either, not for a token that may never come.
    app.wait_event("first_token", "finished", after=seen, timeout=120)
    done = _suggestion(app, display, seen)
    firsts = [e for e in app.events()[seen:] if e["event"] == "first_token"]
    assert done["tokens"] > 0  # streamed
    assert any(e["mode"] == done["mode"] for e in firsts)

    if SCREENSHOTS:
        display.screenshot(Path(SCREENSHOTS) / "popup.png", crop="720x400+20+40")

    before = len(app.events())
    display.xdotool("key", "Return")
    app.wait_event("pasted", after=before, timeout=20)
    expected = TEXT + done["text"] if done["mode"] == "complete" else done["text"]
    wait_for(lambda: mirror.read_text() == expected, timeout=20,
             what=f"the editor to hold {expected!r} (has {mirror.read_text()!r})")
    assert not display.find_windows(f"^{POPUP}$")  # closed after pasting


def test_greenpair_suggest_opens_the_popup_and_escape_closes_it(
    display: XDisplay, app: GreenpairApp, editor: tuple[str, Path], tmp_repo: Path
) -> None:
    app.start("--minimised", "--repo", str(tmp_repo))
    window, mirror = editor
    _select_all_in(display, window)
    seen = len(app.events())
    app.cli("suggest", "--mode", "explain")  # what a Wayland user binds to a shortcut
    shown = app.wait_event("shown", after=seen, timeout=20)
    assert shown["mode"] == "explain"
    popups = wait_for(lambda: display.find_windows(f"^{POPUP}$"), timeout=10, what="the popup")
    _wait_for_focus(display, popups)
    display.xdotool("key", "Escape")
    app.wait_event("dismissed", after=seen, timeout=10)
    wait_for(lambda: not display.find_windows(f"^{POPUP}$"), timeout=10, what="it to close")
    assert mirror.read_text() == TEXT  # nothing pasted
