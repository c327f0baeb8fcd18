"""``greenpair suggest``: open the suggestion popup of the running Greenpair.

Meant to be bound to a keyboard shortcut in the desktop's settings where applications
cannot grab a global hotkey themselves (Wayland). It reaches the running instance over
its local socket; the instance reads the current selection and opens the popup. With
``--stdin`` it works headless instead: the text comes from stdin and the suggestion is
printed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import click

from greenpair.core.errors import GreenpairError

MODES = ["auto", "complete", "fix", "explain"]
START_TIMEOUT_S = 60.0


def _send(message: dict[str, str], timeout_ms: int = 3000) -> dict[str, object] | None:
    from greenpair.ui.tray.single_instance import send_to_running  # Qt only on this path

    return send_to_running(message, timeout_ms=timeout_ms)


def _start_instance() -> None:
    """Start ``greenpair gui --minimised`` detached and wait until it answers."""
    from greenpair.core.config import logs_dir

    log = (logs_dir() / "gui.log").open("ab")
    subprocess.Popen(
        [sys.executable, "-m", "greenpair", "gui", "--minimised"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if _send({"cmd": "ping"}, timeout_ms=500) is not None:
            return
        time.sleep(0.25)  # bounded wait for the new process's socket, start-up only
    raise GreenpairError(
        f"Greenpair did not start within {START_TIMEOUT_S:.0f} s.",
        hint=f"See {logs_dir() / 'gui.log'}.",
    )


def _headless(mode: str, repo: Path | None) -> None:
    from greenpair.core.assistant.suggest.suggestion import should_skip, suggest

    text = sys.stdin.read()
    reason = "Nothing to suggest for: the input is empty." if not text.strip() else None
    reason = reason or should_skip(text)
    if reason:
        click.echo(reason, err=True)
        return
    from greenpair.cli.context import services

    for piece in suggest(text, mode, repo=repo, runtime=services().runtime(),
                         meter=services().meter, counts=services().suggestions):
        click.echo(piece, nl=False)
    click.echo()


@click.command("suggest")
@click.option("--mode", type=click.Choice(MODES), default="auto", show_default=True,
              help="complete: continue the code; fix: correct it; explain: say what it does.")
@click.option("--start/--no-start", default=False,
              help="Start Greenpair minimised in the tray when it is not running.")
@click.option("--stdin", "from_stdin", is_flag=True,
              help="Read the text from stdin and print the suggestion (no window).")
@click.option("--repo", type=click.Path(path_type=Path, file_okay=False, exists=True),
              default=None, help="With --stdin: the repository giving context.")
def suggest_cmd(mode: str, start: bool, from_stdin: bool, repo: Path | None) -> None:
    """Open the suggestion popup on the selected text (bind this to a shortcut).

    The running Greenpair takes the current selection (or the clipboard) and shows its
    popup near the pointer. On Wayland, bind `greenpair suggest --start` to a keyboard
    shortcut in your desktop's settings: applications there cannot grab global hotkeys.
    """
    if from_stdin:
        _headless(mode, repo)
        return
    reply = _send({"cmd": "suggest", "mode": mode})
    if reply is None and start:
        click.echo("Starting Greenpair…", err=True)
        _start_instance()
        reply = _send({"cmd": "suggest", "mode": mode})
    if reply is None:
        raise GreenpairError(
            "Greenpair is not running, so there is no popup to open.",
            hint="Start it with `greenpair gui --minimised`, or run "
                 "`greenpair suggest --start` to start it when needed.",
        )
    if not reply.get("ok"):
        raise GreenpairError(f"Greenpair refused the request: {reply.get('error', reply)}.")
