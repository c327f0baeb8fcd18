"""Start on login: the XDG autostart entry (Linux and BSD desktops)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from greenpair.core.errors import ConfigError

if TYPE_CHECKING:
    from greenpair.core.services import Services


def autostart_path() -> Path:
    """``$XDG_CONFIG_HOME/autostart/greenpair.desktop``."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "autostart" / "greenpair.desktop"


_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def desktop_quote(arg: str) -> str:
    """Quote one argument of a desktop entry's ``Exec`` key (the spec's rules, not a shell's).

    Reserved characters put the argument in double quotes, with ``"`$\\`` escaped by a
    backslash; then the string-value escape doubles every backslash.
    """
    if arg and not _RESERVED & set(arg):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'.replace("\\", "\\\\")


def launch_command() -> str:
    """The command line that starts Greenpair minimised, quoted for a desktop entry."""
    exe = shutil.which("greenpair")
    argv = [exe] if exe else [sys.executable, "-m", "greenpair"]
    return " ".join(desktop_quote(a) for a in [*argv, "gui", "--minimised"])


def autostart_entry() -> str:
    """The autostart desktop entry's text."""
    return (
        "[Desktop Entry]\nType=Application\nName=Greenpair\n"
        "Comment=Private, green coding assistant: tray power monitor and hotkey popup\n"
        f"Exec={launch_command()}\nIcon=greenpair\nTerminal=false\nCategories=Development;\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def set_autostart(enabled: bool, services: Services) -> Path | None:
    """Write (or remove) the autostart entry and save the ``autostart`` setting.

    Returns:
        The entry's path when written, else None.

    Raises:
        ConfigError: Not a Linux/BSD desktop, or the file cannot be written.
    """
    if sys.platform in {"win32", "darwin"}:
        raise ConfigError("Start on login is only available on Linux desktops for now.",
                          hint="Add Greenpair to your login items by hand.")
    path = autostart_path()
    try:
        if enabled:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(autostart_entry(), encoding="utf-8")
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot update {path}: {exc.strerror or exc}.") from exc
    settings = services.settings
    if settings.autostart != enabled:
        settings.autostart = enabled
        services.save_settings(settings)
    return path if enabled else None
