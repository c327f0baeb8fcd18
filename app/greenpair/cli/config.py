"""``greenpair config``: show and change settings."""

from __future__ import annotations

import json

import click

from greenpair.core.config import load_settings, save_settings, settings_path


@click.group("config")
def config_group() -> None:
    """Show or change settings (stored in the data directory)."""


@config_group.command("show")
def config_show() -> None:
    """Print all settings as JSON."""
    click.echo(json.dumps(load_settings().to_dict(), indent=2, sort_keys=True))


@config_group.command("path")
def config_path() -> None:
    """Print the settings file's path."""
    click.echo(str(settings_path()))


@config_group.command("set")
@click.argument("key")
@click.argument("value")
def config_set(key: str, value: str) -> None:
    """Set KEY to VALUE (lists are comma-separated)."""
    settings = load_settings()
    settings.set_from_text(key, value)
    save_settings(settings)
    click.echo(f"{key} = {json.dumps(getattr(settings, key))}")
