"""The tray menu's figures and its tiny live plot of power over the last minutes.

The meter reports power only when it changes meaningfully, so the plot keeps
``(time, watts)`` samples in a ring buffer and draws them as steps over a fixed span
ending now. A hidden plot costs one ``deque.append`` per sample; while it is on screen
(the menu is open) a one-second timer scrolls it, and it stops when the menu closes.
"""

from __future__ import annotations

import itertools
import time
from collections import deque

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFont,
    QHideEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QShowEvent,
)
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

GREEN = QColor("#2e9d4f")


class Sparkline(QWidget):
    """Draws power over the last ``span_s`` seconds (less while the history is shorter)
    as a filled step line.

    Args:
        span_s: The time span shown (default: five minutes).
        capacity: Samples kept.
        parent: The Qt parent.
    """

    def __init__(self, span_s: float = 300.0, capacity: int = 600,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.span_s = span_s
        self.samples: deque[tuple[float, float]] = deque(maxlen=capacity)
        self.paints = 0  # repaints done (tests check that a hidden plot costs none)
        self._scroll = QTimer(self)
        self._scroll.setInterval(1000)
        self._scroll.timeout.connect(self.update)
        self.setMinimumSize(QSize(260, 70))
        self.setAccessibleName("Power over the last minutes")

    def add(self, watts: float, t: float | None = None) -> None:
        """Append a sample (monotonic time ``t``, default now); repaint only when shown."""
        self.samples.append((time.monotonic() if t is None else t, watts))
        if self.isVisible():
            self.update()

    def shown_span(self, now: float) -> float:
        """Seconds shown: the history so far (at least a minute), at most ``span_s``."""
        if not self.samples:
            return self.span_s
        return min(self.span_s, max(60.0, now - self.samples[0][0]))

    def is_scrolling(self) -> bool:
        """Whether the scroll timer runs (only while the plot is on screen)."""
        return self._scroll.isActive()

    def showEvent(self, event: QShowEvent) -> None:
        """Scroll while shown."""
        super().showEvent(event)
        self._scroll.start()

    def hideEvent(self, event: QHideEvent) -> None:
        """No timer while hidden."""
        super().hideEvent(event)
        self._scroll.stop()

    def sizeHint(self) -> QSize:
        """A strip as wide as a menu."""
        return QSize(280, 76)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Steps of the samples, with the span and the range in words."""
        self.paints += 1
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        rect = QRectF(self.rect()).adjusted(12, 4, -12, -18)
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        painter.drawRoundedRect(rect, 3, 3)
        font = painter.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        painter.setFont(font)
        painter.setPen(pal.color(QPalette.ColorRole.WindowText))
        labels = QRectF(rect.left(), rect.bottom() + 2, rect.width(), 16)
        now = time.monotonic()
        span = self.shown_span(now)
        start = now - span
        shown = [(t, w) for t, w in self.samples if t >= start]
        before = [(t, w) for t, w in self.samples if t < start]
        if before:  # the value in force when the span starts
            shown.insert(0, (start, before[-1][1]))
        if not shown:
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "measuring…")
            painter.end()
            return
        values = [w for _, w in shown]
        top = max(max(values) * 1.2, 1.0)
        painter.drawText(labels, Qt.AlignmentFlag.AlignLeft,
                         f"last {span / 60:.0f} min" if span >= 90 else f"last {span:.0f} s")
        painter.drawText(labels, Qt.AlignmentFlag.AlignRight,
                         f"now {values[-1]:.1f} W · peak {max(values):.1f} W")

        def x_of(t: float) -> float:
            return rect.left() + rect.width() * (t - start) / span

        def y_of(w: float) -> float:
            return rect.bottom() - (rect.height() - 2) * w / top

        line = QPainterPath(QPointF(x_of(shown[0][0]), y_of(shown[0][1])))
        for (_, w_prev), (t, w) in itertools.pairwise(shown):
            line.lineTo(x_of(t), y_of(w_prev))
            line.lineTo(x_of(t), y_of(w))
        line.lineTo(rect.right(), y_of(values[-1]))
        area = QPainterPath(line)
        area.lineTo(rect.right(), rect.bottom())
        area.lineTo(x_of(shown[0][0]), rect.bottom())
        area.closeSubpath()
        fill = QColor(GREEN)
        fill.setAlpha(60)
        painter.fillPath(area, fill)
        painter.setPen(QPen(GREEN, 1.6))
        painter.drawPath(line)
        painter.end()


class EnergyPanel(QWidget):
    """The figures block of the tray menu: live power, energy today / this session / of
    the last answer, and the plot.

    Args:
        plot: The live plot shown under the figures.
        parent: The Qt parent.
    """

    ROWS = (("power", "Power now"), ("share", ""), ("today", "Today"),
            ("session", "This session"), ("last", "Last answer"))

    def __init__(self, plot: Sparkline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = plot
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(3)
        for row, (key, title) in enumerate(self.ROWS):
            name = QLabel(title)
            value = QLabel("–")
            value.setTextFormat(Qt.TextFormat.PlainText)
            font = QFont(value.font())
            font.setBold(bool(title))  # an untitled row details the row above
            value.setFont(font)
            name.setAccessibleName(title)
            value.setAccessibleName(f"{title or 'Greenpair share'} value")
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self.values[key] = value
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 6, 10, 2)
        layout.setSpacing(6)
        layout.addLayout(grid)
        layout.addWidget(plot)

    def set_value(self, key: str, text: str) -> None:
        """Show ``text`` in row ``key`` (``power``, ``today``, ``session``, ``last``)."""
        self.values[key].setText(text)

    def value(self, key: str) -> str:
        """The text shown in row ``key``."""
        return self.values[key].text()
