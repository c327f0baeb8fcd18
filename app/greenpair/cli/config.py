"""``greenpair config``: show and change settings."""

from __future__ import annotations

import json
from pathlib import Path

import click

from greenpair.cli.context import services
from greenpair.core.config import settings_path


@click.group("config")
def config_group() -> None:
    """Show or change settings (stored in the data directory)."""


@config_group.command("show")
def config_show() -> None:
    """Print all settings as JSON."""
    click.echo(json.dumps(services().settings.to_dict(), indent=2, sort_keys=True))


@config_group.command("path")
def config_path() -> None:
    """Print the settings file's path."""
    click.echo(str(settings_path()))


@config_group.command("set")
@click.option("--repo", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="The repository of a per-repository key (test_command, check).")
@click.argument("key")
@click.argument("value")
def config_set(repo: Path, key: str, value: str) -> None:
    """Set KEY to VALUE (lists are comma-separated).

    Per repository: test_command (the command that checks patches, run with sh -c in a
    scratch copy; the tests found go where it says {tests}, or at the end of a pytest
    command) and check (yes, no or ask).
    """
    from greenpair.core.assistant.check.prefs import REPO_KEYS, set_repo_value
    from greenpair.core.assistant.retriever import check_repo

    if key in REPO_KEYS:
        root = check_repo(repo)
        prefs = set_repo_value(root, key, value)
        shown = prefs.test_command if key == "test_command" else prefs.allowed
        click.echo(f"{key} = {json.dumps(shown)} (for {root})")
        return
    if key == "embedder_model" and value:  # refused before it is saved, not at next start
        from greenpair.core.index.embedder import model_source

        value = str(model_source(value))
    settings = services().settings
    settings.set_from_text(key, value)
    services().save_settings(settings)
    click.echo(f"{key} = {json.dumps(getattr(settings, key))}")


@config_group.command("set-api-key")
@click.option("--url", default=None, help="The model server (default: the remote_url setting).")
@click.option("--delete", is_flag=True, help="Remove the stored key.")
def config_set_api_key(url: str | None, delete: bool) -> None:
    """Store the model server's API key in the OS keyring (never in the settings file)."""
    from greenpair.core.llm.credentials import store_api_key

    url = url or services().settings.remote_url
    if not url:
        raise click.UsageError("Set remote_url first, or pass --url.")
    key = "" if delete else click.prompt("API key", hide_input=True)
    store_api_key(url, key.strip())
    click.echo(f"{'Removed' if delete else 'Stored'} the API key for {url} in the OS keyring.")
