"""The X11 backend of the global hotkey: a passive key grab with python-xlib.

``XGrabKey`` on the root window makes the X server send us the key press whichever
window has focus. The grab matches modifiers exactly, so it is installed once per
combination of the lock modifiers (CapsLock, NumLock). The listener thread owns its own
X connection and sleeps in ``select`` on that connection and a wake-up pipe.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable
from typing import Any

from greenpair.core.errors import ConfigError
from greenpair.ui.popup.hotkey_combo import Hotkey

log = logging.getLogger(__name__)

# X modifier-map rows: Shift, Lock, Control, Mod1..Mod5 -> mask 1 << row.
_MOD_KEYSYMS = {
    "alt": ("Alt_L", "Alt_R", "Meta_L", "Meta_R"),
    "super": ("Super_L", "Super_R", "Hyper_L"),
    "numlock": ("Num_Lock",),
}
_DEFAULT_MASKS = {"alt": 1 << 3, "super": 1 << 6, "numlock": 1 << 4}  # Mod1, Mod4, Mod2


def _keysym(key: str) -> int:
    from Xlib import XK

    aliases = {"enter": "Return", "esc": "Escape", "del": "Delete", "ins": "Insert",
               "pgup": "Prior", "pgdown": "Next", "backspace": "BackSpace"}
    name = aliases.get(key, key)
    for candidate in (name, name.capitalize(), name.upper()):
        sym = XK.string_to_keysym(candidate)
        if sym:
            return int(sym)
    raise ConfigError(f"Unknown key {key!r} in the hotkey.", hint="Use a key such as Space or F5.")


def _modifier_masks(display: Any) -> dict[str, int]:
    """Which ModN row holds Alt, Super and NumLock on this keyboard map."""
    from Xlib import XK

    masks = dict(_DEFAULT_MASKS)
    rows = display.get_modifier_mapping()
    for name, syms in _MOD_KEYSYMS.items():
        codes = {display.keysym_to_keycode(XK.string_to_keysym(s)) for s in syms} - {0}
        for row, keycodes in enumerate(rows):
            if row >= 3 and codes & set(keycodes):
                masks[name] = 1 << row
                break
    return masks


class X11Grab:
    """Grabs one key combination on the X root window until ``stop()``.

    Args:
        hotkey: The combination.
        callback: Called in the listener thread for each key press.
    """

    def __init__(self, hotkey: Hotkey, callback: Callable[[], None]) -> None:
        self.hotkey = hotkey
        self._callback = callback
        self._display: Any = None
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = -1, -1
        self.keycode = 0
        self.grabbed_masks: list[int] = []

    def start(self) -> None:
        """Open a connection, install the grabs and start the listener thread.

        Raises:
            RuntimeError: No X server, or another application holds the combination.
            ConfigError: The key does not exist on this keyboard.
        """
        from Xlib import X, error
        from Xlib import display as xdisplay

        try:
            disp = xdisplay.Display()
        except (error.DisplayError, OSError) as exc:
            raise RuntimeError(f"cannot open the X display: {exc}") from exc
        try:
            self.keycode = disp.keysym_to_keycode(_keysym(self.hotkey.key))
            if not self.keycode:
                raise ConfigError(f"The key {self.hotkey.key!r} is not on this keyboard.")
            masks = _modifier_masks(disp)
            base = 0
            for mod in self.hotkey.modifiers:
                base |= {"ctrl": X.ControlMask, "shift": X.ShiftMask}.get(mod, 0)
                base |= masks.get(mod, 0)
            root = disp.screen().root
            catch = error.CatchError(error.BadAccess)
            for extra in (0, X.LockMask, masks["numlock"], X.LockMask | masks["numlock"]):
                root.grab_key(self.keycode, base | extra, True, X.GrabModeAsync,
                              X.GrabModeAsync, onerror=catch)
                self.grabbed_masks.append(base | extra)
            disp.sync()
            if catch.get_error() is not None:
                raise RuntimeError("another application already uses this key combination")
        except BaseException:
            disp.close()
            raise
        self._display = disp
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="greenpair-hotkey", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Wake the thread; it removes the grabs and closes its connection."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        os.write(self._wake_w, b"x")
        thread.join(timeout=3)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _run(self) -> None:
        from Xlib import X

        disp = self._display
        fd = disp.fileno()
        try:
            while True:
                while disp.pending_events():
                    event = disp.next_event()
                    if event.type == X.KeyPress and event.detail == self.keycode:
                        self._callback()
                    elif event.type == X.MappingNotify:
                        disp.refresh_keyboard_mapping(event)
                ready, _, _ = select.select([fd, self._wake_r], [], [])
                if self._wake_r in ready:
                    break
        except Exception:
            log.exception("the global hotkey listener stopped")
        finally:
            try:
                root = disp.screen().root
                for mask in self.grabbed_masks:
                    root.ungrab_key(self.keycode, mask)
                disp.sync()
            except Exception:
                log.debug("could not remove the key grab", exc_info=True)
            disp.close()
