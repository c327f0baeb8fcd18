"""Greenpair on the desktop, outside its window: tray, global hotkey, popup, one instance.

``run_app`` (``ui/app.py``) creates the application and the main window, then calls
``install_desktop_integration(app, window)``, which

* listens on the single-instance socket (``greenpair suggest``, a second ``greenpair``),
* shows the tray monitor, or says there is no tray and shows the window instead,
* installs the global hotkey that opens the suggestion popup,
* keeps the app running in the tray when the window is closed (when there is a tray).

It also writes and removes the XDG autostart entry ("start on login", opt-in).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QWidget

from greenpair.core import messages
from greenpair.core.config import Settings
from greenpair.core.errors import ConfigError
from greenpair.core.services import Services
from greenpair.ui.popup.controller import PopupController
from greenpair.ui.popup.hotkey import GlobalHotkey, Hotkey, parse_hotkey, session_kind
from greenpair.ui.popup.popup import SuggestionPopup
from greenpair.ui.popup.target import hook_event
from greenpair.ui.tray.monitor import TrayMonitor, quit_app, show_window
from greenpair.ui.tray.single_instance import SingleInstanceServer, send_to_running

log = logging.getLogger(__name__)

NO_TRAY = (
    "No system tray was found on this desktop, so Greenpair's power monitor lives in "
    "its window. (GNOME needs the AppIndicator extension for tray icons.)"
)


def forward_to_running_instance(message: dict[str, Any] | None = None) -> bool:
    """Hand ``message`` (default: show the window) to a running Greenpair.

    Call before creating a window: True means another instance took over and this
    process should exit.
    """
    reply = send_to_running(message or {"cmd": "show"}, timeout_ms=1500)
    return bool(reply and reply.get("ok"))


class DesktopIntegration(QObject):
    """Owns the tray, the hotkey, the popup and the instance socket of one app.

    Args:
        window: The main window (its ``services`` are shared with the tray and popup).
        runtime: The model runtime for suggestions (None: the services' runtime).
        parent: The Qt parent.
        services: The process's services (default: the window's, else built here).
    """

    def __init__(self, window: QWidget, *, runtime: Any = None,
                 parent: QObject | None = None, services: Services | None = None) -> None:
        super().__init__(parent)
        self.window = window
        found = services if services is not None else getattr(window, "services", None)
        self.services: Services = found if found is not None else Services.build()
        self.server = SingleInstanceServer(parent=self)
        self.tray = TrayMonitor(self, services=self.services)
        self.popups = PopupController(
            SuggestionPopup(runtime=runtime, services=self.services), parent=self)
        self.hotkey: GlobalHotkey | None = None
        self.tray_shown = False
        self.server.message_received.connect(self._on_message)
        self.tray.open_requested.connect(lambda: show_window(self.window))
        self.tray.energy_requested.connect(self._open_energy)
        self.tray.quit_requested.connect(quit_app)
        self.tray.pause_indexing_toggled.connect(self._on_pause_indexing)
        self.services.on_settings_changed(_weak_settings_listener(self))

    def _open_energy(self) -> None:
        """The tray's "Energy page…": the window's energy page (the window may stay hidden)."""
        opener = getattr(self.window, "open_energy", None)
        if opener is not None:
            opener()

    def start(self, *, minimised: bool = False) -> bool:
        """Start everything; show the window unless it starts minimised in the tray.

        Returns:
            False when another instance is running (it was asked to show its window).
        """
        if not self.server.listen():
            forward_to_running_instance()
            return False
        settings = self.services.settings
        self.tray_shown = self.tray.show()
        if self.tray_shown:
            QApplication.setQuitOnLastWindowClosed(False)
        elif minimised or settings.start_minimised:
            messages.warning(NO_TRAY)
        if self.tray_shown and (minimised or settings.start_minimised):
            self.window.hide()
        else:
            show_window(self.window)
        self._install_hotkey(settings.hotkey)
        hook_event("desktop_ready", tray=self.tray_shown, window=self.window.isVisible(),
                   hotkey=bool(self.hotkey and self.hotkey.is_active()))
        return True

    def _install_hotkey(self, combo: str) -> None:
        if self.hotkey is not None:
            self.hotkey.stop()
            self.hotkey.deleteLater()
            self.hotkey = None
        try:
            self.hotkey = GlobalHotkey(combo, parent=self)
        except ConfigError as exc:
            messages.warning(f"{exc.message} {exc.hint or ''}".strip())
            return
        self.hotkey.activated.connect(lambda: self.popups.request("auto"))
        self.hotkey.unavailable.connect(self._on_hotkey_unavailable)
        self.hotkey.start()

    def _on_hotkey_unavailable(self, reason: str) -> None:
        if session_kind() == "wayland":
            log.info("%s", reason)  # expected there; the README explains the binding
        else:
            messages.warning(reason)

    def shutdown(self) -> None:
        """Remove the grab, hide the icon, close the socket (at quit)."""
        if self.hotkey is not None:
            self.hotkey.stop()
        self.popups.popup.dismiss()
        self.tray.hide()
        self.server.close()

    def _on_message(self, message: dict[str, Any]) -> None:
        cmd = message.get("cmd")
        if cmd == "suggest":
            mode = message.get("mode")
            self.popups.request(mode if isinstance(mode, str) else "auto")
        elif cmd == "show":
            show_window(self.window)
        else:
            log.warning("unknown instance message %r", cmd)

    def _on_pause_indexing(self, paused: bool) -> None:
        pause = getattr(self.window, "set_indexing_paused", None)
        if callable(pause):
            pause(paused)
        else:
            log.warning("this window cannot pause indexing")

    def _on_settings(self, settings: Settings) -> None:
        try:
            self._sync_settings(settings)
        except RuntimeError:  # the Qt objects are gone (the app has quit)
            log.debug("settings changed after the desktop integration closed")

    def _sync_settings(self, settings: Settings) -> None:
        for action, value in ((self.tray.eco_action, settings.eco_mode),
                              (self.tray.minimised_action, settings.start_minimised),
                              (self.tray.login_action, settings.autostart)):
            if action.isChecked() != value:
                action.blockSignals(True)
                action.setChecked(value)
                action.blockSignals(False)
        if self.hotkey is not None and _combo(settings.hotkey) != self.hotkey.hotkey:
            self._install_hotkey(settings.hotkey)  # changed in the settings: grab the new one


def _combo(text: str) -> Hotkey | None:
    try:
        return parse_hotkey(text)
    except ConfigError:
        return None  # reported by _install_hotkey


def _weak_settings_listener(integration: DesktopIntegration) -> Callable[[Settings], None]:
    """A settings listener that does not keep ``integration`` alive (services keep it)."""
    ref = weakref.ref(integration)

    def listener(settings: Settings) -> None:
        obj = ref()
        if obj is not None:
            obj._on_settings(settings)

    return listener


def install_desktop_integration(app: QApplication, window: QWidget, *,
                                minimised: bool = False,
                                runtime: Any = None) -> DesktopIntegration:
    """Tray, hotkey, popup and the instance socket for ``window``.

    Shows the window (unless it starts minimised in a tray). When another instance is
    running, it is asked to show its window and this process exits at once (before it
    opens the repository: two processes must not index it together).

    Args:
        app: The application.
        window: The main window.
        minimised: Start in the tray (``greenpair gui --minimised``).
        runtime: The model runtime for suggestions (None: the window's services').

    Returns:
        The integration (kept alive by the application).

    Raises:
        SystemExit: Another instance is running and took over (exit status 0).
    """
    integration = DesktopIntegration(window, runtime=runtime, parent=app)
    if not integration.start(minimised=minimised):
        log.info("Greenpair is already running: its window was brought to the front")
        window.hide()
        raise SystemExit(0)
    app.aboutToQuit.connect(integration.shutdown)
    return integration
