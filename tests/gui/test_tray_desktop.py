"""Desktop integration (offscreen): no-tray fallback, instance messages, desktop entries."""

from __future__ import annotations

import configparser
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMainWindow

from greenpair.cli import cli
from greenpair.core import messages
from greenpair.core.config import load_settings
from greenpair.ui.tray.autostart import autostart_entry, desktop_quote
from greenpair.ui.tray.desktop import NO_TRAY, DesktopIntegration
from greenpair.ui.tray.sparkline import Sparkline
from tests.helpers.fake_runtime import FakeRuntime

PACKAGING = Path(__file__).resolve().parents[2] / "packaging" / "linux"


@pytest.fixture
def said() -> Iterator[list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []

    def listener(level: str, text: str) -> None:
        seen.append((level, text))

    messages.connect(listener)
    yield seen
    messages.disconnect(listener)


class Window(QMainWindow):
    """A main window as the tray sees it: it can pause indexing."""

    def __init__(self) -> None:
        super().__init__()
        self.paused: list[bool] = []

    def set_indexing_paused(self, paused: bool) -> None:
        self.paused.append(paused)


@pytest.fixture
def integration(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[DesktopIntegration]:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    window = Window()
    window.setWindowTitle("Greenpair — test")
    qtbot.addWidget(window)
    desktop = DesktopIntegration(window, runtime=FakeRuntime(default_reply="    return x\n"))
    yield desktop
    desktop.shutdown()
    qtbot.waitUntil(lambda: not desktop.popups.popup.is_generating(), timeout=5000)
    QApplication.setQuitOnLastWindowClosed(True)


def test_without_a_tray_it_says_so_and_shows_the_window(
    integration: DesktopIntegration, said: list[tuple[str, str]]
) -> None:
    assert integration.start(minimised=True)
    assert integration.tray_shown is False  # the offscreen platform has no tray
    assert integration.window.isVisible()  # minimised to a tray that does not exist: no
    assert ("warning", NO_TRAY) in said
    assert QApplication.quitOnLastWindowClosed()  # closing the window still quits
    assert integration.server.is_listening()
    # No display at all here: the hotkey says why it is off.
    assert any("global hotkey" in text for _, text in said)


def test_instance_messages_open_the_popup_or_the_window(
    qtbot: Any, integration: DesktopIntegration
) -> None:
    assert integration.start()
    integration.window.hide()
    integration._on_message({"cmd": "show"})
    assert integration.window.isVisible()
    QGuiApplication.clipboard().setText("def f(x):\n")
    popup = integration.popups.popup
    with qtbot.waitSignal(popup.finished, timeout=5000):
        integration._on_message({"cmd": "suggest", "mode": "fix"})
    assert popup.isVisible()
    assert popup.mode == "fix"
    assert popup.suggestion == "    return x\n"


def test_pause_indexing_reaches_the_window(integration: DesktopIntegration) -> None:
    integration.tray.pause_action.trigger()
    integration.tray.pause_action.trigger()
    assert integration.window.paused == [True, False]  # type: ignore[attr-defined]


def test_a_new_hotkey_in_the_settings_replaces_the_grab(integration: DesktopIntegration) -> None:
    assert integration.start()
    first = integration.hotkey
    services = integration.services  # what the window's settings dialog saves through
    settings = services.settings
    settings.hotkey = "ctrl+alt+space"  # the same combination, spelled differently
    services.save_settings(settings)
    assert integration.hotkey is first
    settings.hotkey = "Ctrl+Shift+K"
    services.save_settings(settings)
    assert integration.hotkey is not first
    assert integration.hotkey is not None
    assert integration.hotkey.describe() == "Ctrl+Shift+K"


def test_settings_changed_elsewhere_update_the_tray_switches(
    integration: DesktopIntegration,
) -> None:
    settings = load_settings()
    settings.eco_mode = True
    settings.start_minimised = True
    integration.services.save_settings(settings)  # e.g. from the window's settings dialog
    assert integration.tray.eco_action.isChecked()
    assert integration.tray.minimised_action.isChecked()


def test_the_plot_shows_the_history_so_far_up_to_its_span(qapp: Any) -> None:
    plot = Sparkline(span_s=300)
    plot.add(5.0, t=1000.0)
    assert plot.shown_span(1010.0) == 60.0  # at least a minute
    assert plot.shown_span(1200.0) == 200.0
    assert plot.shown_span(2000.0) == 300.0


@pytest.mark.parametrize(
    ("arg", "quoted"),
    [("/usr/bin/greenpair", "/usr/bin/greenpair"), ("/opt/my apps/py", '"/opt/my apps/py"'),
     ('a"b$c', '"a\\\\"b\\\\$c"')],
)
def test_exec_arguments_are_quoted_as_the_desktop_entry_spec_says(arg: str, quoted: str) -> None:
    assert desktop_quote(arg) == quoted


def _entry(text: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser["Desktop Entry"]


def _check_greenpair_command(exec_line: str) -> None:
    """The Exec line runs a real ``greenpair`` subcommand with valid options."""
    argv = shlex.split(exec_line)
    assert argv[0] == "greenpair" or argv[:3][1:] == ["-m", "greenpair"]
    args = argv[1:] if argv[0] == "greenpair" else argv[3:]
    ctx = click.Context(cli)
    command = cli.get_command(ctx, args[0])
    assert command is not None, args
    command.make_context(args[0], args[1:])  # parses (raises on a bad option), runs nothing


@pytest.mark.parametrize("name", ["greenpair.desktop", "greenpair-autostart.desktop"])
def test_packaged_desktop_entries_run_real_commands(name: str) -> None:
    text = (PACKAGING / name).read_text()
    entry = _entry(text)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Greenpair"
    _check_greenpair_command(entry["Exec"])
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    for section in parser.sections():
        if section.startswith("Desktop Action"):
            _check_greenpair_command(parser[section]["Exec"])


def test_the_written_autostart_entry_starts_minimised() -> None:
    entry = _entry(autostart_entry())
    assert entry["Exec"].endswith("gui --minimised")
    _check_greenpair_command(entry["Exec"])
