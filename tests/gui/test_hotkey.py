"""The global hotkey's logic: parsing, session detection, debounce, the Wayland case."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from greenpair.core.errors import ConfigError
from greenpair.ui.popup.hotkey import GlobalHotkey, Hotkey, parse_hotkey, session_kind


@pytest.mark.parametrize(
    ("text", "mods", "key"),
    [
        ("Ctrl+Alt+Space", {"ctrl", "alt"}, "space"),
        ("ctrl + shift + F5", {"ctrl", "shift"}, "f5"),
        ("Super-K", {"super"}, "k"),
        ("Cmd+Option+Return", {"super", "alt"}, "return"),
    ],
)
def test_parse_hotkey(text: str, mods: set[str], key: str) -> None:
    assert parse_hotkey(text) == Hotkey(frozenset(mods), key)


@pytest.mark.parametrize("text", ["", "Ctrl+Alt", "Ctrl+A+B", "Space", "Hyperdrive+X"])
def test_bad_hotkeys_are_config_errors_with_a_fix(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_hotkey(text)
    assert "hotkey" in info.value.message.lower() or "key" in info.value.message.lower()


def test_pynput_format() -> None:
    assert parse_hotkey("Ctrl+Alt+Space").pynput_format() == "<ctrl>+<alt>+<space>"
    assert parse_hotkey("Shift+Super+k").pynput_format() == "<shift>+<cmd>+k"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DISPLAY": ":1"}, "x11"),
        ({"DISPLAY": ":1", "WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
        ({"XDG_SESSION_TYPE": "wayland"}, "wayland"),
        ({}, "none"),
    ],
)
def test_session_kind(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert session_kind() == expected


def test_presses_from_another_thread_arrive_once_per_debounce(qtbot: Any) -> None:
    hotkey = GlobalHotkey("Ctrl+Alt+Space", debounce_s=5.0)
    seen: list[str] = []
    hotkey.activated.connect(lambda: seen.append(threading.current_thread().name))
    # Auto-repeat: the listener thread reports the held key several times.
    def held_key() -> None:
        for _ in range(5):
            hotkey._on_press()

    thread = threading.Thread(target=held_key, name="listener")
    with qtbot.waitSignal(hotkey.activated, timeout=2000):
        thread.start()
        thread.join()
    qtbot.wait(50)  # let any queued extra emission arrive (there must be none)
    assert seen == ["MainThread"]  # delivered once, in the GUI thread
    assert hotkey.debounced == 4


def test_presses_after_the_debounce_interval_count(qtbot: Any) -> None:
    hotkey = GlobalHotkey("Ctrl+Alt+Space", debounce_s=0.0)
    with qtbot.waitSignals([hotkey.activated, hotkey.activated], timeout=2000):
        hotkey._on_press()
        hotkey._on_press()
    assert hotkey.debounced == 0


def test_wayland_has_no_grab_and_says_what_to_bind(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    hotkey = GlobalHotkey()
    with qtbot.waitSignal(hotkey.unavailable, timeout=1000) as blocker:
        assert hotkey.start() is False
    assert "greenpair suggest" in blocker.args[0]
    assert not hotkey.is_active()


def test_no_display_reports_unavailable(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    hotkey = GlobalHotkey()
    with qtbot.waitSignal(hotkey.unavailable, timeout=1000):
        assert hotkey.start() is False


def test_describe() -> None:
    assert GlobalHotkey("alt+ctrl+space").describe() == "Ctrl+Alt+Space"
