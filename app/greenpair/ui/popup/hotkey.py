"""The global hotkey (default Ctrl+Alt+Space) that opens the suggestion popup.

Backends, by session:

* X11: a passive key grab on the root window (python-xlib, installed with pynput), for
  the key with each combination of the lock modifiers (NumLock, CapsLock), so the hotkey
  works whatever their state. A thread blocks in ``select`` on the X connection and a
  wake-up pipe: no polling.
* Windows and macOS: pynput's ``GlobalHotKeys`` (macOS asks for the Accessibility /
  Input Monitoring permission).
* Wayland forbids global grabs: there is no backend; the user binds ``greenpair
  suggest`` in the desktop's shortcut settings instead.

Callbacks arrive in the listener thread and reach the GUI thread only through the
``activated`` signal (a queued connection). Repeated presses (key auto-repeat, a
double press) inside ``debounce_s`` are dropped and counted.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from greenpair.core.errors import ConfigError
from greenpair.ui.popup.hotkey_combo import DEFAULT_HOTKEY, Hotkey, parse_hotkey

log = logging.getLogger(__name__)

def session_kind() -> str:
    """``x11``, ``wayland``, ``windows``, ``macos``, or ``none`` (no display)."""
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    if os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    if os.environ.get("DISPLAY"):
        return "x11"
    return "none"


class _Backend(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


class GlobalHotkey(QObject):
    """Listens for the global hotkey while other applications have focus.

    Signals:
        activated(): The hotkey was pressed (debounced), in the GUI thread.
        unavailable(str): No backend here; the text says why and what to do instead.

    Args:
        hotkey: The combination, e.g. ``Ctrl+Alt+Space``.
        debounce_s: Presses closer than this to the last accepted one are dropped.
        parent: The Qt parent.
    """

    activated = Signal()
    unavailable = Signal(str)
    _pressed = Signal()  # emitted from the listener thread

    def __init__(
        self, hotkey: str = DEFAULT_HOTKEY, *, debounce_s: float = 0.4,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.hotkey = parse_hotkey(hotkey)
        self.debounce_s = debounce_s
        self.debounced = 0  # presses dropped by the debounce
        self.backend_name = ""
        self._backend: _Backend | None = None
        self._last = float("-inf")
        self._lock = threading.Lock()
        self._pressed.connect(self.activated)

    def start(self) -> bool:
        """Install the grab for this session.

        Returns:
            True when a backend listens; False after emitting ``unavailable``.
        """
        if self._backend is not None:
            return True
        kind = session_kind()
        reason = ""
        try:
            if kind == "x11":
                from greenpair.ui.popup.hotkey_x11 import X11Grab

                self._backend, self.backend_name = X11Grab(self.hotkey, self._on_press), "x11"
            elif kind in {"windows", "macos"}:
                self._backend = _PynputBackend(self.hotkey, self._on_press)
                self.backend_name = "pynput"
            elif kind == "wayland":
                reason = (
                    "Wayland does not let applications grab a global hotkey. Bind the command "
                    "`greenpair suggest` to a shortcut in your desktop's keyboard settings."
                )
            else:
                reason = "No display: the global hotkey needs X11, Windows or macOS."
            if self._backend is not None:
                self._backend.start()
        except (OSError, RuntimeError, ImportError, ConfigError) as exc:
            self._backend = None
            reason = f"The global hotkey {self.describe()} could not be installed: {exc}"
        if self._backend is None:
            log.warning("%s", reason)
            self.unavailable.emit(reason)
            return False
        log.info("global hotkey %s installed (%s)", self.describe(), self.backend_name)
        return True

    def stop(self) -> None:
        """Remove the grab and end the listener thread."""
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.stop()

    def is_active(self) -> bool:
        """Whether a backend is listening."""
        return self._backend is not None

    def describe(self) -> str:
        """The combination as shown to the user, e.g. ``Ctrl+Alt+Space``."""
        order = ("ctrl", "alt", "shift", "super")
        mods = [m.capitalize() for m in order if m in self.hotkey.modifiers]
        return "+".join([*mods, self.hotkey.key.capitalize()])

    def _on_press(self) -> None:
        """Called in the listener thread for each press (auto-repeat included)."""
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.debounce_s:
                self.debounced += 1
                return
            self._last = now
        self._pressed.emit()


class _PynputBackend:
    """pynput's ``GlobalHotKeys`` (its own listener thread)."""

    def __init__(self, hotkey: Hotkey, callback: Any) -> None:
        self._format = hotkey.pynput_format()
        self._callback = callback
        self._listener: Any = None

    def start(self) -> None:
        from pynput import keyboard  # imported here: it opens the display on import

        self._listener = keyboard.GlobalHotKeys({self._format: self._callback})
        self._listener.start()
        self._listener.wait()
        if not getattr(self._listener, "IS_TRUSTED", True):  # macOS without permission
            self.stop()
            raise RuntimeError(
                "macOS has not allowed Greenpair to monitor the keyboard. Allow it in "
                "System Settings → Privacy & Security → Accessibility (and Input "
                "Monitoring), then restart Greenpair."
            )

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
