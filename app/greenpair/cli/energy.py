"""``greenpair energy`` (live power and totals) and ``greenpair doctor`` (health checks)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click


def _fmt_j(joules: float) -> str:
    if joules >= 3600:
        return f"{joules:,.0f} J ({joules / 3600:.2f} Wh)"
    return f"{joules:,.1f} J"


def _energy_data(since: str, live: bool, seconds: float) -> dict[str, Any]:
    from greenpair.cli.context import services
    from greenpair.core.energy.carbon import intensity_for
    from greenpair.core.energy.ledger import since_timestamp

    meter = services().meter
    ledger = meter.ledger()
    start = since_timestamp(since, ledger)
    totals = ledger.totals(since=start)
    last = ledger.last("answer")
    g_per_kwh, source = intensity_for(services().settings)
    sensor = meter.sensor
    reading = meter.measure_power(seconds) if live else None
    return {
        "sensor": {
            "name": sensor.name,
            "estimated": sensor.estimated,
            "scope": sensor.scope,
            "description": sensor.description,
        },
        "power": reading.to_json() if reading else None,
        "since": start,
        "since_label": since,
        "totals": totals.to_json(),
        "last_answer": None if last is None else {
            "ts": last.ts, "joules": last.joules, "gco2e": last.gco2e, "sensor": last.sensor,
            "estimated": last.estimated, "tokens": last.tokens,
            "joules_per_token": (last.joules / last.tokens)
            if last.joules is not None and last.tokens else None,
        },
        "grid": {"g_per_kwh": g_per_kwh, "source": source},
        "ledger": str(ledger.path),
    }


def _print_energy(data: dict[str, Any]) -> None:
    sensor = data["sensor"]
    est = " — estimated" if sensor["estimated"] else ""
    power = data["power"]
    if power:
        click.echo(
            f"Power now: {power['watts']:.1f} W whole system, Greenpair "
            f"{power['greenpair_watts']:.2f} W (sensor: {power['sensor']}"
            f"{', estimated' if power['estimated'] else ''})"
        )
    click.echo(f"Sensor: {sensor['name']} ({sensor['description']}){est}")
    totals = data["totals"]
    when = "all time" if not data["since"] else datetime.fromtimestamp(data["since"]).strftime(
        "%Y-%m-%d %H:%M")
    flag = " [estimated]" if totals["estimated"] else ""
    click.echo(
        f"Since {data['since_label']} ({when}): {totals['count']} pieces of work, "
        f"{_fmt_j(totals['joules'])}, {totals['gco2e']:.3f} gCO2e{flag}"
    )
    for kind, k in totals["by_kind"].items():
        per = f", {k['joules_per_token']:.2f} J/token" if k["joules_per_token"] else ""
        each = k["joules"] / k["count"] if k["count"] else 0.0
        click.echo(f"  {kind:<11} {k['count']:>5}  {_fmt_j(k['joules'])}  "
                   f"({each:.1f} J each{per})")
    last = data["last_answer"]
    if last and last["joules"] is not None:
        click.echo(
            f"Last answer: {last['joules']:.1f} J, {last['gco2e'] or 0:.4f} gCO2e "
            f"({'estimated' if last['estimated'] else last['sensor']})"
        )
    if totals["savings"]:
        parts = []
        for name, s in totals["savings"].items():
            text = f"{name.replace('_', ' ')} {s['count']:g}"
            if s["tokens"]:
                text += f" ({s['tokens']:,} tokens)"
            if s["joules"]:
                text += f" ~{s['joules']:.1f} J"
            parts.append(text)
        click.echo("Avoided work: " + "; ".join(parts))
    grid = data["grid"]
    click.echo(f"Grid: {grid['g_per_kwh']:g} gCO2e/kWh ({grid['source']})")


@click.command("energy")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--since", default="today", show_default=True,
              help="today, session, all, a duration (24h, 7d) or a date (2026-11-01).")
@click.option("--no-live", is_flag=True, help="Skip the one-second live power reading.")
@click.option("--seconds", default=1.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="How long to measure live power.")
def energy_cmd(as_json: bool, since: str, no_live: bool, seconds: float) -> None:
    """Live power and the energy Greenpair used (answers, patches, indexing)."""
    data = _energy_data(since, not no_live, seconds)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        _print_energy(data)


_MARK = {"ok": ("ok", "green"), "warn": ("!!", "yellow"), "fail": ("XX", "red"),
         "info": ("--", None)}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--verify", is_flag=True, help="Hash model files not verified yet.")
def doctor_cmd(as_json: bool, verify: bool) -> None:
    """Check sensors, models, storage and settings; say how to fix what is wrong."""
    from greenpair.cli.context import services
    from greenpair.core.doctor import run_checks

    checks = run_checks(services().settings, verify=verify)
    failed = [c for c in checks if c.status == "fail"]
    if as_json:
        click.echo(json.dumps([c.to_json() for c in checks], indent=2))
    else:
        group = None
        for check in checks:
            if check.group != group:
                group = check.group
                click.secho(group.capitalize(), bold=True)
            mark, color = _MARK[check.status]
            click.echo(f"  [{click.style(mark, fg=color) if color else mark}] "
                       f"{check.name}: {check.detail}")
            if check.hint:
                click.echo(f"       fix: {check.hint}")
        click.echo(f"{len(failed)} problem(s) found." if failed else "No problems found.")
    if failed:
        raise click.exceptions.Exit(1)
