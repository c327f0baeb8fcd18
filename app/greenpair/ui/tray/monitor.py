"""The tray energy monitor: live power in the icon, energy figures in the menu.

The icon shows the live power draw as a number (watts) and its tooltip says it in words,
with "estimated" when no real sensor is available. The menu shows energy today and this
session, the last answer's joules and gCO2e, a live plot of the last minutes, and the
eco-mode, pause-indexing, start-minimised and start-on-login switches.

Costs next to nothing: the icon subscribes to core's meter only while it is shown (the
meter samples only while someone listens and calls back only when power changed
meaningfully); the icon is redrawn only when the displayed number changes, the menu's
figures are read only when the menu opens, and the plot repaints only while on screen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget, QWidgetAction

from greenpair.core import messages
from greenpair.core.config import Settings
from greenpair.core.energy.meter import Subscription
from greenpair.core.energy.report import PowerReading
from greenpair.core.errors import ConfigError, GreenpairError
from greenpair.core.llm.lifecycle import memory_line
from greenpair.core.services import Services
from greenpair.ui.popup.target import hook_event
from greenpair.ui.tray.figures import EnergyFigures, format_grams, format_joules, read_figures
from greenpair.ui.tray.sparkline import GREEN, EnergyPanel, Sparkline

log = logging.getLogger(__name__)


def short_watts(watts: float | None) -> str:
    """The number drawn in the icon: ``7.4``, ``12``, ``130``; ``–`` when unknown."""
    if watts is None:
        return "–"
    if watts < 9.95:
        return f"{watts:.1f}"
    return f"{min(watts, 999):.0f}"


def render_icon(text: str, size: int = 64) -> QPixmap:
    """A green rounded square with ``text`` in white, as large as fits."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(GREEN)
    painter.drawRoundedRect(0, 0, size, size, size * 0.18, size * 0.18)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * {1: 0.7, 2: 0.62, 3: 0.5}.get(len(text), 0.4)))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


class TrayMonitor(QObject):
    """The tray icon and its menu.

    Signals:
        open_requested(): "Open Greenpair" or a click on the icon.
        energy_requested(): "Energy page…".
        pause_indexing_toggled(bool): The user paused (True) or resumed indexing.
        quit_requested(): "Quit".

    Args:
        parent: The Qt parent.
        services: The process's services (meter, settings, runtime manager; default: built
            here).
        runtime: Returns the window's model runtime, or None before the first use
            (default: the services' current one); the menu says whether it is loaded.
    """

    open_requested = Signal()
    energy_requested = Signal()
    pause_indexing_toggled = Signal(bool)
    quit_requested = Signal()
    _sampled = Signal(object)  # a PowerReading, from the meter's sampler thread

    def __init__(self, parent: QObject | None = None, *,
                 services: Services | None = None,
                 runtime: Callable[[], Any] | None = None) -> None:
        super().__init__(parent)
        self.services = services if services is not None else Services.build()
        self._runtime = runtime or self.services.runtimes.current
        self.session_start = time.time()
        self.icon_redraws = 0
        self.watts: float | None = None  # the whole machine
        self.own_watts: float | None = None  # Greenpair's share (its CPU time)
        self.estimated = True
        self._shown_text: str | None = None
        self._subscription: Subscription | None = None
        self.tray = QSystemTrayIcon(self)
        self.tray.activated.connect(self._on_activated)
        self.menu = QMenu()
        self.plot = Sparkline()
        self._build_menu()
        self.tray.setContextMenu(self.menu)
        self._sampled.connect(self._on_sample)
        self._set_icon(short_watts(None))
        self.tray.setToolTip("Greenpair — measuring power…")

    def _build_menu(self) -> None:
        menu = self.menu
        self.open_action = menu.addAction("&Open Greenpair", self.open_requested.emit)
        self.energy_action = menu.addAction("E&nergy page…", self.energy_requested.emit)
        menu.addSeparator()
        self.panel = EnergyPanel(self.plot)
        panel_action = QWidgetAction(menu)
        panel_action.setDefaultWidget(self.panel)
        menu.addAction(panel_action)
        self.model_action = menu.addAction("Model unloaded")
        self.model_action.setEnabled(False)  # a status line, not a command
        menu.addSeparator()
        settings = self.services.settings
        self.eco_action = self._switch("&Eco mode", settings.eco_mode, self._on_eco)
        self.pause_action = self._switch("&Pause indexing", False,
                                         self.pause_indexing_toggled.emit)
        self.minimised_action = self._switch("Start &minimised", settings.start_minimised,
                                             self._on_start_minimised)
        self.login_action = self._switch("Start on &login", settings.autostart,
                                         self._on_autostart)
        menu.addSeparator()
        self.quit_action = menu.addAction("&Quit", self.quit_requested.emit)
        menu.aboutToShow.connect(self.refresh_menu)
        menu.aboutToHide.connect(lambda: hook_event("tray_menu_hidden"))

    def _switch(self, text: str, checked: bool, slot: Any) -> QAction:
        action = self.menu.addAction(text)
        action.setCheckable(True)
        action.setChecked(checked)
        action.toggled.connect(slot)
        return action

    # -- showing and sampling ---------------------------------------------------------

    def show(self) -> bool:
        """Show the icon and start sampling.

        Returns:
            False when the desktop has no system tray (nothing is started then).
        """
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return False
        self.tray.show()
        self._start_sampling()
        return True

    def hide(self) -> None:
        """Hide the icon and stop sampling."""
        self._stop_sampling()
        self.tray.hide()

    def _start_sampling(self) -> None:
        if self._subscription is None:
            self._subscription = self.services.meter.subscribe(self._sampled.emit)

    def _stop_sampling(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            subscription.close()

    def is_sampling(self) -> bool:
        """Whether the icon listens to the meter."""
        return self._subscription is not None

    def _on_sample(self, reading: PowerReading | None) -> None:
        """A reading from the meter (GUI thread): update what shows only if it changed."""
        self.watts = None if reading is None else reading.watts
        self.own_watts = None if reading is None else reading.greenpair_watts
        self.estimated = True if reading is None else reading.estimated
        if self.watts is not None:
            self.plot.add(self.watts)
        text = short_watts(self.watts)
        tooltip = self.tooltip()
        if tooltip != self.tray.toolTip():
            self.tray.setToolTip(tooltip)
        if text != self._shown_text:
            self._set_icon(text)

    def _set_icon(self, text: str) -> None:
        self._shown_text = text
        self.icon_redraws += 1
        self.tray.setIcon(QIcon(render_icon(text)))

    def tooltip(self) -> str:
        """The icon's tooltip."""
        if self.watts is None:
            return "Greenpair — power unknown"
        kind = " (estimated)" if self.estimated else ""
        return f"Greenpair — {self.watts:.1f} W{kind}\n{self._share()}"

    def _share(self) -> str:
        own = 0.0 if self.own_watts is None else self.own_watts
        return f"{own:.1f} W of it used by Greenpair"

    def refresh_menu(self) -> None:
        """Fill the menu's figures (run when it opens)."""
        figures: EnergyFigures = read_figures(self.services.meter, self.session_start)
        est = " (estimated)" if self.estimated else ""
        power = "–" if self.watts is None else f"{self.watts:.1f} W{est}"
        self.panel.set_value("share", "–" if self.watts is None else self._share())
        self.panel.set_value("power", power)
        self.panel.set_value("today", format_joules(figures.today_j))
        self.panel.set_value("session", format_joules(figures.session_j))
        last = "no answer yet"
        if figures.last_j is not None:
            last = f"{format_joules(figures.last_j)} · {format_grams(figures.last_g)}"
            if figures.last_estimated:
                last += " (estimated)"
        self.panel.set_value("last", last)
        self.model_action.setText(memory_line(self._runtime()))
        self.plot.update()
        hook_event("tray_menu", samples=len(self.plot.samples))

    # -- slots --------------------------------------------------------------------------

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_requested.emit()

    def _on_eco(self, on: bool) -> None:
        settings = self.services.settings
        settings.eco_mode = on
        _save(self.services, settings)
        log.info("eco mode %s", "on" if on else "off")

    def _on_start_minimised(self, on: bool) -> None:
        settings = self.services.settings
        settings.start_minimised = on
        _save(self.services, settings)

    def _on_autostart(self, on: bool) -> None:
        from greenpair.ui.tray.autostart import set_autostart

        try:
            set_autostart(on, self.services)
        except ConfigError as exc:
            messages.warning(f"{exc.message} {exc.hint or ''}".strip())
            self.login_action.blockSignals(True)
            self.login_action.setChecked(not on)
            self.login_action.blockSignals(False)



def show_window(window: QWidget) -> None:
    """Bring ``window`` to the front."""
    window.showNormal()
    window.raise_()
    window.activateWindow()


def quit_app() -> None:
    """Quit the application (the window's own shutdown runs after the event loop)."""
    app = QApplication.instance()
    if app is not None:
        app.quit()


def _save(services: Services, settings: Settings) -> None:
    """Save, or tell the user why not (a settings file that does not parse is kept)."""
    try:
        services.save_settings(settings)
    except GreenpairError as exc:
        messages.warning(f"{exc.message} {exc.hint or ''}".strip())
