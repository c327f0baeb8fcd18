"""The energy page: where the energy went over the last 30 days, and what was avoided.

Plots (pyqtgraph) of joules per day stacked by kind of work (answers, patches,
suggestions, indexing) and of joules per answer over time; a table of avoided work in
joules; the grid's gCO2e and the sensor in use with its honesty label. The figures come
from core's Qt-free queries (``core.energy.trends``) over the energy ledger.

Idle cost is zero: no timer, no subscription. The page reads the ledger when it is shown
and when Refresh is pressed; nothing runs while it is hidden.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from greenpair.ui.theme import colours

DAYS = 30
KIND_COLOURS = {"answer": "#2e7d32", "patch": "#1565c0", "suggestion": "#f9a825",
                "index": "#8e24aa"}


@dataclass(frozen=True)
class SensorInfo:
    """The sensor in use, as the page shows it."""

    name: str
    estimated: bool
    scope: str = ""
    description: str = ""

    @property
    def honesty(self) -> str:
        """``estimated`` or ``measured`` (with what is measured)."""
        if self.estimated:
            return "estimated"
        return f"measured ({self.scope})" if self.scope else "measured"


def _fmt_j(joules: float) -> str:
    if joules >= 3600:
        return f"{joules:,.0f} J ({joules / 3600:.2f} Wh)"
    return f"{joules:,.1f} J"


def _plot(title: str, left: str, *, dates: bool, palette: Any) -> Any:
    import pyqtgraph as pg

    c = colours(palette)
    axis = {"bottom": pg.DateAxisItem()} if dates else {}
    plot = pg.PlotWidget(axisItems=axis, background=c.base)
    plot.setTitle(title, color=c.text)
    plot.setLabel("left", left, color=c.text)
    for name in ("left", "bottom"):
        plot.getAxis(name).setPen(c.muted)
        plot.getAxis(name).setTextPen(c.text)
    plot.showGrid(x=False, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.setMinimumHeight(200)
    return plot


class EnergyPage(QWidget):
    """Energy over the last 30 days (a window of its own).

    Args:
        ledger: Returns the energy ledger to read (core's ``Ledger``).
        sensor: Returns the sensor in use.
        grid: Returns ``(gCO2e per kWh, where the figure comes from)``.
        now: The clock (tests pin it).
    """

    def __init__(self, ledger: Callable[[], Any], sensor: Callable[[], SensorInfo],
                 grid: Callable[[], tuple[float, str]], *,
                 now: Callable[[], float] = time.time, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=True)
        self._ledger, self._sensor, self._grid, self._now = ledger, sensor, grid, now
        self.setWindowTitle("Greenpair — Energy")
        self.setAccessibleName("Energy")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setAccessibleName("Energy summary")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the ledger again (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        QShortcut(QKeySequence("F5"), self, self.refresh)
        QShortcut(QKeySequence("Ctrl+W"), self, self.close)
        palette = self.palette()
        self.daily_plot = _plot(f"Energy per day, last {DAYS} days", "J", dates=True,
                                palette=palette)
        self.daily_plot.addLegend(offset=(10, 5), colCount=4,
                                  labelTextColor=colours(palette).text)
        self.answer_plot = _plot("Energy per answer", "J / answer", dates=True,
                                 palette=palette)
        self.avoided = QLabel()
        self.avoided.setTextFormat(Qt.TextFormat.RichText)
        self.avoided.setWordWrap(True)
        self.avoided.setAccessibleName("Avoided work")
        self.avoided.setAlignment(Qt.AlignmentFlag.AlignTop)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignTop)
        plots = QGridLayout()
        plots.addWidget(self.daily_plot, 0, 0, 1, 2)
        plots.addWidget(self.answer_plot, 1, 0)
        plots.addWidget(self.avoided, 1, 1)
        plots.setColumnStretch(0, 3)
        plots.setColumnStretch(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(plots, 1)
        self.daily: Any = None
        self.points: list[Any] = []
        self.avoided_work: Any = None
        self.resize(1000, 680)
        self._pg = pg

    def showEvent(self, event: QShowEvent) -> None:
        """Read the ledger each time the page is shown (nothing runs while hidden)."""
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        """Read the ledger and redraw everything."""
        from greenpair.core.energy.trends import avoided_work, daily_energy, joules_per_answer

        ledger = self._ledger()
        now = self._now()
        self.daily = daily_energy(ledger, DAYS, now=now)
        self.points = joules_per_answer(ledger, DAYS, now=now)
        self.avoided_work = avoided_work(ledger, DAYS, now=now)
        self._draw_daily()
        self._draw_answers()
        self._show_summary(ledger, now)
        self._show_avoided()

    def _draw_daily(self) -> None:
        from greenpair.core.energy.trends import KIND_LABELS

        pg, plot, daily = self._pg, self.daily_plot, self.daily
        plot.clear()
        xs = [datetime(d.year, d.month, d.day, 12).timestamp() for d in daily.days]
        base = [0.0] * len(xs)
        kinds = [k for k in KIND_LABELS if daily.total(k) > 0]
        kinds += [k for k in daily.joules if k not in KIND_LABELS and daily.total(k) > 0]
        for kind in kinds:
            values = daily.joules[kind]
            colour = KIND_COLOURS.get(kind, "#757575")
            bars = pg.BarGraphItem(x=xs, y0=base, height=values, width=86400 * 0.8,
                                   brush=colour, pen=pg.mkPen(None),
                                   name=KIND_LABELS.get(kind, kind))
            plot.addItem(bars)
            base = [b + v for b, v in zip(base, values, strict=True)]
        if xs:
            plot.setXRange(xs[0] - 0.6 * 86400, xs[-1] + 0.6 * 86400, padding=0)
        plot.setYRange(0, max(base, default=0) * 1.25 or 1.0, padding=0)

    def _draw_answers(self) -> None:
        pg, plot = self._pg, self.answer_plot
        plot.clear()
        if not self.points:
            text = pg.TextItem("No answers in the last 30 days.", anchor=(0.5, 0.5),
                               color=colours(self.palette()).muted)
            plot.addItem(text)
            text.setPos(0, 0)
            return
        xs = [p.ts for p in self.points]
        ys = [p.joules for p in self.points]
        colour = QColor(KIND_COLOURS["answer"])
        plot.plot(xs, ys, pen=pg.mkPen(colour, width=1.5), symbol="o", symbolSize=5,
                  symbolBrush=colour, symbolPen=None)
        plot.setYRange(0, max(ys) * 1.15, padding=0)
        days = self.daily.days  # the same 30 days as the plot above
        first = datetime(days[0].year, days[0].month, days[0].day).timestamp()
        plot.setXRange(first - 0.1 * 86400, first + len(days) * 86400 + 0.1 * 86400,
                       padding=0)

    def _show_summary(self, ledger: Any, now: float) -> None:
        from greenpair.core.energy.trends import KIND_LABELS, period_days

        c = colours(self.palette())
        since = datetime.combine(period_days(DAYS, now)[0], datetime.min.time()).timestamp()
        totals = ledger.totals(since=since)
        g_per_kwh, source = self._grid()
        sensor = self._sensor()
        honesty = sensor.honesty
        badge = (f'<span style="background-color:{c.error_bg}; color:{c.error_fg};">'
                 f"&nbsp;{honesty}&nbsp;</span>" if sensor.estimated
                 else f"<b>{honesty}</b>")
        answers = self.daily.counts.get("answer", [])
        n_answers = sum(answers)
        per_answer = (self.daily.total("answer") / n_answers) if n_answers else None
        kinds = " · ".join(f"{KIND_LABELS[k]} {_fmt_j(self.daily.total(k))}"
                           for k in KIND_LABELS if self.daily.total(k) > 0) or "nothing yet"
        estimated = " (partly estimated)" if totals.estimated else ""
        self.summary.setText(
            f"<h2 style='margin:0px;'>{_fmt_j(self.daily.total())} in the last {DAYS} days"
            f"{estimated}</h2>"
            f"<p>{kinds}<br>"
            f"{totals.gco2e:.2f} gCO2e at {g_per_kwh:.0f} gCO2e/kWh ({source})"
            + (f" · {per_answer:.1f} J per answer on average" if per_answer else "")
            + f"<br>Sensor: <b>{sensor.name}</b> — {badge}"
            + (f' <span style="color:{c.muted};">{sensor.description}</span>'
               if sensor.description else "") + "</p>")

    def _show_avoided(self) -> None:
        from greenpair.core.energy.trends import SAVING_LABELS

        c = colours(self.palette())
        a = self.avoided_work
        rows = []
        for name in sorted(a.joules, key=lambda n: -a.joules[n]):
            label = SAVING_LABELS.get(name, name.replace("_", " "))
            amount = (f"{a.tokens[name]:,} tokens" if a.tokens.get(name)
                      else f"{a.counts.get(name, 0):,.0f} times")
            est = f' <span style="color:{c.muted};">(estimated)</span>' \
                if name in a.estimated else ""
            value = (f"<b>{_fmt_j(a.joules[name])}</b>{est}" if a.joules[name] > 0
                     else f'<span style="color:{c.muted};">not priced</span>')
            rows.append(f"<tr><td>{label}</td><td align='right'>{amount}</td>"
                        f"<td align='right'>{value}</td></tr>")
        body = "".join(rows) or (f"<tr><td style='color:{c.muted};'>Nothing avoided yet."
                                 "</td></tr>")
        self.avoided.setText(
            f"<h3>Avoided work: {_fmt_j(a.total_joules)}</h3>"
            f"<table cellpadding='3'>{body}</table>"
            f'<p style="color:{c.muted};">Token counters are priced at this period\'s '
            f"average J per processed token; skipped suggestions at its average J per "
            f"suggestion.</p>")


def default_energy_page(services: Any, parent: QWidget | None = None) -> EnergyPage:
    """The page on the services' meter: its ledger and sensor, the settings' grid."""
    from greenpair.core.energy.carbon import intensity_for

    meter = services.meter

    def sensor() -> SensorInfo:
        s = meter.sensor
        return SensorInfo(s.name, bool(s.estimated), str(getattr(s, "scope", "")),
                          str(getattr(s, "description", "")))

    return EnergyPage(meter.ledger, sensor,
                      lambda: intensity_for(services.settings), parent=parent)
