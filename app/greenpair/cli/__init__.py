"""The ``greenpair`` command: a thin client of ``greenpair.core``.

Subcommands live in their own modules and are imported only when used, so
``greenpair --help`` stays fast. ``greenpair`` with no subcommand opens the window.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

from greenpair import __version__
from greenpair.core.errors import GreenpairError

# name -> "module:attribute" (a click command or group)
_COMMANDS: dict[str, str] = {
    "index": "greenpair.cli.index:index_cmd",
    "search": "greenpair.cli.index:search_cmd",
    "watch": "greenpair.cli.index:watch_cmd",
    "ask": "greenpair.cli.assistant:ask_cmd",
    "chat": "greenpair.cli.assistant:chat_cmd",
    "patch": "greenpair.cli.assistant:patch_cmd",
    "models": "greenpair.cli.models:models_group",
    "energy": "greenpair.cli.energy:energy_cmd",
    "doctor": "greenpair.cli.energy:doctor_cmd",
    "suggest": "greenpair.cli.suggest:suggest_cmd",
    "serve": "greenpair.cli.serve:serve_group",
    "mcp": "greenpair.cli.mcp:mcp_cmd",
    "config": "greenpair.cli.config:config_group",
    "gui": "greenpair.cli.gui:gui_cmd",
    "audit": "greenpair.cli.audit:audit_cmd",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None  # not built yet
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup, invoke_without_command=True)
@click.version_option(__version__, prog_name="greenpair")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages to stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Greenpair: a private, green coding assistant. Nothing leaves your machine.

    With no command, opens the window on the current repository (or the last one used).
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if ctx.invoked_subcommand is None:
        from greenpair.cli.gui import launch_gui

        launch_gui(repo=None)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: turn ``GreenpairError`` into a clean message and exit code."""
    if os.environ.get("GREENPAIR_TEST_LEAK"):  # test-only negative control: leak_probe.py
        from greenpair.cli.leak_probe import plant

        plant(os.environ["GREENPAIR_TEST_LEAK"], sys.argv[1:] if argv is None else argv)
    try:
        return cli.main(args=argv, prog_name="greenpair", standalone_mode=False)
    except GreenpairError as exc:
        click.secho(f"Error: {exc.message}", fg="red", err=True)
        if exc.hint:
            click.echo(exc.hint, err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
