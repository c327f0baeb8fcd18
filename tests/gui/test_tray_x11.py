"""The real app's tray icon under Xvfb with a tray host (trayer), driven with xdotool."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.x11 import (
    GreenpairApp,
    XDisplay,
    open_tray_menu,
    tray_host,
    tray_icon,
    wait_for,
    xvfb,
)

pytestmark = [pytest.mark.x11, pytest.mark.slow]
SCREENSHOTS = os.environ.get("GREENPAIR_SCREENSHOTS")  # a directory: save the tray menu


@pytest.fixture
def display() -> Iterator[XDisplay]:
    with xvfb() as disp, tray_host(disp):
        yield disp


@pytest.fixture
def app(display: XDisplay, greenpair_home: Path, tmp_path: Path) -> Iterator[GreenpairApp]:
    running = GreenpairApp(display, greenpair_home, tmp_path)
    yield running
    running.stop()


def _settings(app: GreenpairApp) -> dict[str, object]:
    return json.loads((app.home / "settings.json").read_text())


def _window_visible(display: XDisplay, repo: Path) -> bool:
    """Whether the main window (titled after the repository) is on screen."""
    return bool(display.find_windows(repo.name))


def test_the_tray_icon_is_embedded_and_its_menu_works(
    display: XDisplay, app: GreenpairApp, tmp_repo: Path
) -> None:
    ready = app.start("--minimised", "--repo", str(tmp_repo))
    assert ready["tray"] is True  # Qt found the tray host (isSystemTrayAvailable)
    assert ready["window"] is False  # started minimised: only the icon shows
    icon = wait_for(lambda: tray_icon(display), timeout=15, what="the icon in the tray")
    geometry = display.run("xwininfo", "-id", icon)
    assert "Map State: IsViewable" in geometry

    # Eco mode: the menu's mnemonic E toggles it and the setting is saved.
    open_tray_menu(display, app, icon)
    display.xdotool("key", "e")
    wait_for(lambda: (app.home / "settings.json").exists() and _settings(app)["eco_mode"],
             timeout=10, what="eco mode saved")

    # The live plot and the figures are in the menu (screenshot on request).
    open_tray_menu(display, app, icon)
    if SCREENSHOTS:
        display.screenshot(Path(SCREENSHOTS) / "tray-menu.png", crop="400x330+880+0")
    display.xdotool("key", "Escape")

    # Open Greenpair shows the window.
    assert not _window_visible(display, tmp_repo)
    open_tray_menu(display, app, icon)
    display.xdotool("key", "o")
    wait_for(lambda: _window_visible(display, tmp_repo), timeout=10, what="the main window")

    # Quit ends the app.
    open_tray_menu(display, app, icon)
    display.xdotool("key", "q")
    proc = app.proc
    assert proc is not None
    wait_for(lambda: proc.poll() is not None, timeout=20, what="the app to quit")
    assert proc.returncode == 0, app.log()
    assert "Traceback" not in app.log()


def test_a_second_greenpair_hands_over_to_the_running_one(
    display: XDisplay, app: GreenpairApp, tmp_repo: Path, tmp_path: Path
) -> None:
    app.start("--minimised", "--repo", str(tmp_repo))
    assert not _window_visible(display, tmp_repo)
    second = GreenpairApp(display, app.home, tmp_path / "second")
    (tmp_path / "second").mkdir()
    second.start("--repo", str(tmp_repo), ready=False)
    proc = second.proc
    assert proc is not None
    wait_for(lambda: proc.poll() is not None, timeout=60, what="the second process to exit")
    assert proc.returncode == 0, second.log()
    # The first one showed its window and kept running.
    wait_for(lambda: _window_visible(display, tmp_repo), timeout=10, what="the main window")
    assert app.proc is not None
    assert app.proc.poll() is None
    assert "Traceback" not in second.log()
