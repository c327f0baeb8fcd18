"""A key combination such as ``Ctrl+Alt+Space``: parsed once, used by every backend."""

from __future__ import annotations

from dataclasses import dataclass

from greenpair.core.errors import ConfigError

DEFAULT_HOTKEY = "Ctrl+Alt+Space"
MODIFIERS = {
    "ctrl": "ctrl", "control": "ctrl", "alt": "alt", "option": "alt", "shift": "shift",
    "super": "super", "meta": "super", "win": "super", "cmd": "super", "command": "super",
}


@dataclass(frozen=True)
class Hotkey:
    """A parsed key combination: modifiers (ctrl, alt, shift, super) and one key."""

    modifiers: frozenset[str]
    key: str  # lower case: "space", "a", "f5", "return"

    def pynput_format(self) -> str:
        """The combination in pynput's ``GlobalHotKeys`` syntax."""
        names = {"ctrl": "<ctrl>", "alt": "<alt>", "shift": "<shift>", "super": "<cmd>"}
        parts = [names[m] for m in ("ctrl", "alt", "shift", "super") if m in self.modifiers]
        parts.append(self.key if len(self.key) == 1 else f"<{self.key}>")
        return "+".join(parts)


def parse_hotkey(text: str) -> Hotkey:
    """Parse a combination such as ``Ctrl+Alt+Space``.

    Raises:
        ConfigError: Empty, no key, two keys, or an unknown modifier.
    """
    parts = [p.strip().lower() for p in text.replace("-", "+").split("+") if p.strip()]
    mods = {MODIFIERS[p] for p in parts if p in MODIFIERS}
    keys = [p for p in parts if p not in MODIFIERS]
    if len(keys) != 1:
        raise ConfigError(
            f"The hotkey {text!r} must name exactly one key besides its modifiers.",
            hint="For example: greenpair config set hotkey Ctrl+Alt+Space",
        )
    if not mods:
        raise ConfigError(
            f"The hotkey {text!r} has no modifier; it would steal the key from every app.",
            hint="Add Ctrl, Alt, Shift or Super, e.g. Ctrl+Alt+Space.",
        )
    return Hotkey(frozenset(mods), keys[0])
