"""``greenpair gui``: open the window (also what ``greenpair`` alone does)."""

from __future__ import annotations

from pathlib import Path

import click


def launch_gui(repo: Path | None) -> None:
    """Start the Qt application (imported only here, so the CLI stays Qt-free)."""
    from greenpair.ui.app import run_app

    raise SystemExit(run_app(repo=repo))


@click.command("gui")
@click.option("--repo", type=click.Path(path_type=Path), default=None, help="Repository to open.")
@click.option("--minimised", is_flag=True, help="Start in the tray.")
def gui_cmd(repo: Path | None, minimised: bool) -> None:
    """Open the Greenpair window."""
    from greenpair.ui.app import run_app

    raise SystemExit(run_app(repo=repo, minimised=minimised))
