"""The X11 key grab on a real (virtual) X server, driven by xdotool."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from greenpair.ui.popup.hotkey import GlobalHotkey, parse_hotkey
from greenpair.ui.popup.hotkey_x11 import X11Grab
from tests.helpers.x11 import XDisplay, xvfb

pytestmark = pytest.mark.x11


@pytest.fixture(scope="module")
def display() -> Iterator[XDisplay]:
    with xvfb() as disp:
        yield disp


@pytest.fixture
def on_display(display: XDisplay, monkeypatch: pytest.MonkeyPatch) -> XDisplay:
    monkeypatch.setenv("DISPLAY", display.name)
    for name in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    return display


@pytest.fixture
def hotkey(qtbot: Any, on_display: XDisplay) -> Iterator[GlobalHotkey]:
    key = GlobalHotkey("Ctrl+Alt+Space", debounce_s=0.0)
    assert key.start(), "the grab failed"
    assert key.backend_name == "x11"
    yield key
    key.stop()


def test_the_hotkey_fires_whichever_window_has_focus(
    qtbot: Any, hotkey: GlobalHotkey, on_display: XDisplay
) -> None:
    with qtbot.waitSignal(hotkey.activated, timeout=5000):
        on_display.xdotool("key", "ctrl+alt+space")


def test_it_fires_with_numlock_and_capslock_on(
    qtbot: Any, hotkey: GlobalHotkey, on_display: XDisplay
) -> None:
    on_display.xdotool("key", "Num_Lock", "Caps_Lock")
    try:
        with qtbot.waitSignal(hotkey.activated, timeout=5000):
            on_display.xdotool("key", "ctrl+alt+space")
    finally:
        on_display.xdotool("key", "Num_Lock", "Caps_Lock")


def test_other_combinations_do_not_fire(
    qtbot: Any, hotkey: GlobalHotkey, on_display: XDisplay
) -> None:
    with qtbot.assertNotEmitted(hotkey.activated, wait=300):
        on_display.xdotool("key", "ctrl+space", "alt+space", "ctrl+alt+a")


def test_a_taken_combination_is_reported_and_freed_by_stop(
    qtbot: Any, hotkey: GlobalHotkey, on_display: XDisplay
) -> None:
    rival = X11Grab(parse_hotkey("Ctrl+Alt+Space"), lambda: None)
    with pytest.raises(RuntimeError, match="already uses"):
        rival.start()
    hotkey.stop()
    rival.start()  # the grab was released
    rival.stop()


def test_stop_ends_the_listener_thread(on_display: XDisplay) -> None:
    grab = X11Grab(parse_hotkey("Ctrl+Shift+F5"), lambda: None)
    grab.start()
    thread = grab._thread
    assert thread is not None
    assert thread.is_alive()
    grab.stop()
    assert not thread.is_alive()
