"""The energy page fed by a ledger with 30 days of recorded rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from greenpair.core.energy.ledger import Ledger
from greenpair.ui.energy.page import EnergyPage, SensorInfo
from tests.helpers.ledger_rows import fill_ledger

NOW = datetime(2026, 11, 30, 18, 0).timestamp()


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    led = Ledger(tmp_path / "energy.sqlite3")
    yield led
    led.close()


def _bars(plot: Any) -> list[Any]:
    import pyqtgraph as pg

    return [i for i in plot.getPlotItem().items if isinstance(i, pg.BarGraphItem)]


def test_thirty_days_of_rows_are_plotted_per_day_and_kind(qtbot: Any, ledger: Ledger) -> None:
    totals = fill_ledger(ledger, 30, now=NOW)
    page = EnergyPage(lambda: ledger, lambda: SensorInfo("estimate", True, "system",
                                                         "CPU time × 4 W per thread"),
                      lambda: (475.0, "world average"), now=lambda: NOW)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)

    bars = _bars(page.daily_plot)
    assert [b.name() for b in bars] == ["Answers", "Patches", "Suggestions", "Indexing"]
    for bar, kind in zip(bars, ("answer", "patch", "suggestion", "index"), strict=True):
        heights = bar.opts["height"]
        assert len(heights) == 30
        assert sum(heights) == pytest.approx(totals[kind])
    # stacked: each kind starts where the previous ones end
    answers, patches = bars[0].opts["height"], bars[1].opts["height"]
    assert list(bars[1].opts["y0"]) == pytest.approx(list(answers))
    assert list(bars[2].opts["y0"]) == pytest.approx([a + p for a, p in
                                                      zip(answers, patches, strict=True)])

    [curve] = page.answer_plot.getPlotItem().listDataItems()
    xs, ys = curve.getData()
    assert len(ys) == sum(2 + d % 3 for d in range(30))
    assert ys[0] == 40.0
    assert ys[-1] == 69.0
    assert list(xs) == sorted(xs)

    text = page.summary.text()
    total = sum(totals.values())
    assert f"{total:,.0f} J" in text
    assert "world average" in text
    assert "475 gCO2e/kWh" in text
    assert "gCO2e at" in text
    assert "estimate" in text
    assert "estimated" in text
    avoided = page.avoided.text()
    for label in ("Prompt cache reuse", "Prompt tokens saved by packing",
                  "Suggestions skipped", "24,000 tokens", "(estimated)"):
        assert label in avoided

    # Rows recorded later show after Refresh, and only then: nothing polls.
    ledger.add("answer", duration_s=1, joules=500.0, sensor="rapl", estimated=False,
               ts=NOW - 60)
    assert page.daily.total("answer") == pytest.approx(totals["answer"])
    page.refresh_button.click()
    assert page.daily.total("answer") == pytest.approx(totals["answer"] + 500.0)


def test_measured_sensor_and_an_empty_ledger(qtbot: Any, ledger: Ledger) -> None:
    page = EnergyPage(lambda: ledger, lambda: SensorInfo("rapl", False, "cpu"),
                      lambda: (56.0, "FR 2023 average (Ember)"), now=lambda: NOW)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    assert "measured (cpu)" in page.summary.text()
    assert "0.0 J in the last 30 days" in page.summary.text()
    assert _bars(page.daily_plot) == []
    assert "Nothing avoided yet." in page.avoided.text()


def test_opened_from_the_window_on_the_real_ledger_and_idle_when_hidden(
        qtbot: Any, make_window: Any) -> None:
    window = make_window()
    fill_ledger(window.services.meter.ledger(), 30)
    window.energy_button.click()
    page = window.energy_page
    assert page is not None
    assert page.isVisible()
    qtbot.waitExposed(page)
    assert len(_bars(page.daily_plot)) == 4
    assert window.services.meter.sensor.name in page.summary.text()
    page.hide()
    active = [t for t in page.findChildren(QTimer) if t.isActive()]
    assert active == [], "the hidden energy page must not run timers"
