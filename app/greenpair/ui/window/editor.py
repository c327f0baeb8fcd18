"""Open a file in the user's editor at a line (``$VISUAL``/``$EDITOR``, else the OS default).

Editors are called the way each one understands a line number: ``+LINE`` for vi, vim,
nvim, emacs, nano, micro, kak, gedit; ``-g file:line`` for VS Code; ``file:line`` for
Sublime Text and Helix; ``--line`` for Kate. Terminal editors are started in a terminal
emulator (the window has no terminal of its own). Without an editor, the file opens
with the desktop's default application (no line then).
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices

log = logging.getLogger(__name__)

PLUS_LINE = {"vi", "vim", "nvim", "gvim", "mvim", "emacs", "emacsclient", "nano", "micro",
             "kak", "gedit", "gnome-text-editor", "joe", "jed", "ne", "mcedit", "xemacs"}
VSCODE_LIKE = {"code", "code-insiders", "codium", "vscodium", "cursor"}
COLON_LINE = {"subl", "sublime_text", "hx", "helix", "zed"}
TERMINAL_EDITORS = {"vi", "vim", "nvim", "nano", "micro", "kak", "hx", "helix", "joe", "jed",
                    "ne", "mcedit"}
TERMINALS = ("x-terminal-emulator", "gnome-terminal", "konsole", "xfce4-terminal", "kitty",
             "alacritty", "xterm")


def editor_from_env(env: Mapping[str, str] | None = None) -> list[str]:
    """The editor command from ``$VISUAL`` or ``$EDITOR`` (empty when neither is set)."""
    env = os.environ if env is None else env
    for name in ("VISUAL", "EDITOR"):
        value = env.get(name, "").strip()
        if value:
            try:
                return shlex.split(value)
            except ValueError:
                return [value]
    return []


def editor_command(editor: list[str], path: Path, line: int) -> list[str]:
    """The command that opens ``path`` at ``line`` in ``editor``.

    Args:
        editor: The editor program and its own arguments (e.g. ``["code", "--wait"]``).
        path: The file.
        line: 1-based line number.

    Returns:
        The full command (the file without a line for editors not known to take one).
    """
    program, *args = editor
    name = Path(program).name.lower().removesuffix(".exe")
    line = max(1, line)
    if name in PLUS_LINE:
        return [program, *args, f"+{line}", str(path)]
    if name in VSCODE_LIKE:
        args = [a for a in args if a not in ("-w", "--wait")]
        return [program, *args, "-g", f"{path}:{line}"]
    if name in COLON_LINE:
        return [program, *args, f"{path}:{line}"]
    if name == "kate":
        return [program, *args, "--line", str(line), str(path)]
    return [program, *args, str(path)]


def needs_terminal(editor: list[str]) -> bool:
    """Whether ``editor`` runs inside a terminal (``emacs -nw`` too)."""
    if not editor:
        return False
    name = Path(editor[0]).name.lower()
    return name in TERMINAL_EDITORS or (name == "emacs" and "-nw" in editor)


def find_terminal(env: Mapping[str, str] | None = None) -> list[str] | None:
    """A terminal emulator that runs a command given after ``-e`` (None when none)."""
    env = os.environ if env is None else env
    chosen = env.get("TERMINAL", "").strip()
    candidates = [chosen] if chosen else []
    candidates += list(TERMINALS)
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return [found, "-e"]
    return None


def open_in_editor(path: Path, line: int, env: Mapping[str, str] | None = None) -> str | None:
    """Open ``path`` at ``line``; returns an error message for the user, or None.

    Args:
        path: The file to open.
        line: 1-based line.
        env: Environment (default: the process's).
    """
    editor = editor_from_env(env)
    if editor:
        command = editor_command(editor, path, line)
        if needs_terminal(editor):
            terminal = find_terminal(env)
            if terminal is None:
                return (f"Your editor ({editor[0]}) runs in a terminal, and no terminal "
                        f"emulator was found. Set $VISUAL to a graphical editor, or $TERMINAL.")
            command = terminal + command
        program = shutil.which(command[0]) or command[0]
        log.info("opening %s:%d with %s", path, line, command)
        ok, _pid = QProcess.startDetached(program, command[1:], str(path.parent))
        if ok:
            return None
        return (f"Could not start your editor ({editor[0]}). Check $VISUAL/$EDITOR "
                f"(it is {' '.join(editor)!r}).")
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return None
    return ("No editor is set and the desktop could not open the file. Set $VISUAL or "
            "$EDITOR (for example `export VISUAL=code`).")
