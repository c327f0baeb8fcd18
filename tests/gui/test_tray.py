"""The tray monitor's logic (offscreen): icon, redraw economy, live plot, menu actions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor

from greenpair.core.config import load_settings
from greenpair.core.energy.report import PowerReading
from greenpair.ui.tray.figures import format_grams, format_joules
from greenpair.ui.tray.monitor import TrayMonitor, render_icon, short_watts
from greenpair.ui.tray.sparkline import Sparkline


def reading(watts: float, estimated: bool = True) -> PowerReading:
    return PowerReading(time.time(), watts, watts / 4, "estimate" if estimated else "rapl",
                        estimated)


@pytest.fixture
def xdg_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(path))
    return path


@pytest.fixture
def tray(qtbot: Any, xdg_config: Path) -> Iterator[TrayMonitor]:
    monitor = TrayMonitor()
    yield monitor
    monitor.hide()
    monitor.menu.deleteLater()
    monitor.services.close()


@pytest.mark.parametrize(("watts", "text"), [(None, "–"), (0.04, "0.0"), (7.44, "7.4"),
                                             (9.96, "10"), (12.4, "12"), (1234, "999")])
def test_short_watts(watts: float | None, text: str) -> None:
    assert short_watts(watts) == text


def test_the_icon_shows_the_number_in_white_on_green(qapp: Any) -> None:
    image = render_icon("12").toImage()
    assert image.width() == 64
    colours = {QColor(image.pixel(x, y)).name() for x in range(64) for y in range(64)}
    assert "#2e9d4f" in colours
    assert "#ffffff" in colours


def test_formats() -> None:
    assert format_joules(None) == "–"
    assert format_joules(0.24) == "0.2 J"
    assert format_joules(850) == "850 J"
    assert format_joules(12_345) == "12.3 kJ"
    assert format_joules(4.2e6) == "4.20 MJ"
    assert format_grams(0.42) == "0.42 g CO2e"
    assert format_grams(0.0031) == "3.1 mg CO2e"
    assert format_grams(2.6e-5) == "26 µg CO2e"


def test_the_icon_is_redrawn_only_when_the_shown_number_changes(tray: TrayMonitor) -> None:
    start = tray.icon_redraws
    tray._on_sample(reading(12.2))
    tray._on_sample(reading(12.4))  # still "12": no redraw
    tray._on_sample(reading(11.6))  # still "12"
    assert tray.icon_redraws == start + 1
    tray._on_sample(reading(13.0))
    assert tray.icon_redraws == start + 2
    assert tray.tray.toolTip() == "Greenpair — 13.0 W (estimated)\n3.2 W of it used by Greenpair"
    tray._on_sample(reading(13.0, estimated=False))
    assert tray.tray.toolTip().startswith("Greenpair — 13.0 W\n")
    assert len(tray.plot.samples) == 5


def test_no_tray_host_offscreen_means_no_icon_and_no_sampling(tray: TrayMonitor) -> None:
    assert tray.show() is False  # the offscreen platform has no system tray
    assert not tray.is_sampling()


def test_live_power_comes_from_the_meter_while_subscribed(
    qtbot: Any, tray: TrayMonitor
) -> None:
    tray.services.settings.sampler_hz = 20.0
    meter = tray.services.meter
    tray._start_sampling()
    assert tray.is_sampling()
    qtbot.waitUntil(lambda: tray.watts is not None, timeout=5000)
    assert tray.plot.samples
    assert tray._shown_text == short_watts(tray.watts)
    tray.hide()
    assert not tray.is_sampling()
    assert tray._sampled.emit not in meter._subscribers


def test_a_hidden_plot_does_not_paint_and_has_no_timer(qtbot: Any) -> None:
    plot = Sparkline(span_s=60)
    qtbot.addWidget(plot)
    for watts in (3.0, 4.0, 5.0):
        plot.add(watts)
    qtbot.wait(20)
    assert plot.paints == 0
    assert not plot.is_scrolling()
    plot.show()
    qtbot.waitUntil(lambda: plot.paints > 0, timeout=2000)
    assert plot.is_scrolling()
    plot.hide()
    assert not plot.is_scrolling()


def test_the_plot_draws_steps_over_the_span(qtbot: Any) -> None:
    plot = Sparkline(span_s=60)
    qtbot.addWidget(plot)
    plot.resize(260, 64)
    now = time.monotonic()
    plot.add(2.0, now - 90)  # before the span: its value holds at the left edge
    plot.add(20.0, now - 30)
    image = plot.grab().toImage()
    def greenish(x: int, y: int) -> bool:
        c = QColor(image.pixel(x, y))
        return c.green() > c.red() + 40 and c.green() > c.blue() + 20

    green = [(x, y) for x in range(image.width()) for y in range(image.height())
             if greenish(x, y)]
    assert green, "the line was not drawn"
    xs = [x for x, _ in green]
    assert min(xs) < 30
    assert max(xs) > 220


def test_eco_mode_switch_saves_the_setting(tray: TrayMonitor) -> None:
    assert not load_settings().eco_mode
    tray.eco_action.trigger()
    assert load_settings().eco_mode is True
    tray.eco_action.trigger()
    assert load_settings().eco_mode is False


def test_a_settings_file_that_does_not_parse_is_kept_with_a_message(tray: TrayMonitor) -> None:
    from greenpair.core import messages
    from greenpair.core.config import settings_path

    seen: list[str] = []

    def listener(level: str, text: str) -> None:
        seen.append(text)

    messages.connect(listener)
    try:
        settings_path().write_text('{"eco_mode": tru')
        tray.eco_action.trigger()  # no exception escapes the slot
    finally:
        messages.disconnect(listener)
    assert settings_path().read_text() == '{"eco_mode": tru'
    assert any("saving would overwrite it" in text for text in seen)


def test_start_minimised_switch_saves_the_setting(tray: TrayMonitor) -> None:
    tray.minimised_action.trigger()
    assert load_settings().start_minimised is True


def test_start_on_login_writes_and_removes_the_xdg_autostart_entry(
    tray: TrayMonitor, xdg_config: Path
) -> None:
    entry = xdg_config / "autostart" / "greenpair.desktop"
    assert not entry.exists()  # opt-in: nothing written before the user asks
    tray.login_action.trigger()
    text = entry.read_text()
    assert "[Desktop Entry]" in text
    assert "gui --minimised" in text
    assert load_settings().autostart is True
    tray.login_action.trigger()
    assert not entry.exists()
    assert load_settings().autostart is False


def test_open_pause_and_quit_emit_their_signals(qtbot: Any, tray: TrayMonitor) -> None:
    with qtbot.waitSignal(tray.open_requested, timeout=1000):
        tray.open_action.trigger()
    with qtbot.waitSignal(tray.energy_requested, timeout=1000):
        tray.energy_action.trigger()
    with qtbot.waitSignal(tray.pause_indexing_toggled, timeout=1000) as blocker:
        tray.pause_action.trigger()
    assert blocker.args == [True]
    with qtbot.waitSignal(tray.quit_requested, timeout=1000):
        tray.quit_action.trigger()


def test_the_menu_shows_energy_today_session_and_last_answer(tray: TrayMonitor) -> None:
    ledger = tray.services.meter.ledger()
    ledger.add("answer", duration_s=1, joules=10.0, sensor="estimate", estimated=True,
               ts=time.time() - 86_400 * 3)  # an older day: not today
    ledger.add("index", duration_s=3, joules=1500.0, sensor="estimate", estimated=True,
               ts=time.time() - 5)  # today, before this session started
    ledger.add("answer", duration_s=2, joules=42.0, sensor="estimate", estimated=True,
               gco2e=0.0055, tokens=30)
    tray._on_sample(reading(8.25))
    tray.refresh_menu()
    assert tray.panel.value("power") == "8.2 W (estimated)"
    assert tray.panel.value("share") == "2.1 W of it used by Greenpair"
    assert tray.panel.value("today") == "1.5 kJ"
    assert tray.panel.value("session") == "42 J"
    assert tray.panel.value("last") == "42 J · 5.5 mg CO2e (estimated)"


def test_the_menu_says_when_there_was_no_answer_yet(tray: TrayMonitor) -> None:
    tray.refresh_menu()
    assert tray.panel.value("last") == "no answer yet"
    assert tray.panel.value("power") == "–"


def test_every_menu_item_has_its_own_mnemonic(tray: TrayMonitor) -> None:
    """Two items with the same &-letter make the key cycle between them instead of
    triggering one (the Energy page item once took Eco mode's E)."""
    letters = []
    for action in tray.menu.actions():
        text = action.text().replace("&&", "")
        if "&" in text:
            letters.append(text[text.index("&") + 1].lower())
    assert len(letters) >= 7
    assert len(letters) == len(set(letters)), letters


@pytest.mark.model
def test_the_menu_says_whether_the_model_is_loaded_and_its_memory(
        qtbot: Any, xdg_config: Path, tiny_model_path: Path) -> None:
    import re

    from greenpair.core.llm.llama import LlamaRuntime

    runtime = LlamaRuntime(tiny_model_path, n_ctx=512, n_threads=1)
    holder: list[Any] = [None]
    monitor = TrayMonitor(runtime=lambda: holder[0])
    try:
        monitor.refresh_menu()
        assert monitor.model_action.text() == "Model unloaded"  # nothing asked yet
        assert not monitor.model_action.isEnabled()
        holder[0] = runtime
        monitor.refresh_menu()
        assert monitor.model_action.text() == "Model unloaded"  # lazy: not loaded yet
        list(runtime.stream_completion("Hi", max_tokens=2))
        monitor.refresh_menu()
        assert re.fullmatch(r"Model loaded · \d+ MB", monitor.model_action.text())
        runtime.unload()
        monitor.refresh_menu()
        assert monitor.model_action.text() == "Model unloaded"
    finally:
        runtime.unload()
        monitor.hide()
        monitor.menu.deleteLater()
