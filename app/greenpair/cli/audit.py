"""``greenpair audit``: prove, at the system-call level, that nothing leaves the machine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command("audit")
@click.option("--repo", type=click.Path(path_type=Path, exists=True, file_okay=False),
              default=Path("."), show_default=True,
              help="The repository to copy for the session (it is only read).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the report as one JSON object (for security reviews).")
@click.option("--model", default=None,
              help="Model for ask and patch (default: the small smollm2-135m).")
@click.option("--max-files", type=click.IntRange(1, 100_000), default=None,
              help="Copy at most this many files (default: enough for a short session).")
def audit_cmd(repo: Path, as_json: bool, model: str | None, max_files: int | None) -> None:
    """Run a short real session under a system-call tracer and report every connection.

    A scratch copy of the repository is indexed, searched, asked about and patched with
    the small model, each command in its own process under `strace -f` (every thread and
    child process) and, where the system allows, in a fresh network namespace. The report
    lists every attempt to leave this machine (connects and sends beyond loopback, DNS,
    lookups through a local resolver or proxy socket, undecodable addresses) by pid and
    command, and every Unix socket reached. Exit status: 0 clean (no attempt, and every
    step ran to its expected end), 1 attempts, 2 incomplete (a step failed or io_uring hid
    traffic: nothing is proven). Needs strace (apt-get install strace).
    """
    from greenpair.core.audit import DEFAULT_MAX_FILES, run_audit

    # core.audit is imported here, not at the top: `greenpair --help` stays fast.
    steps = run_audit(repo, model=model, max_files=max_files or DEFAULT_MAX_FILES)
    try:
        while True:
            step = next(steps)
            click.secho(f"[{step.number}/{step.total}] greenpair {step.name} (traced)…",
                        dim=True, err=True)
    except StopIteration as finished:
        report = finished.value
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(report.to_text())
    if not report.clean:
        click.secho(report.headline(), fg="red", err=True)
        sys.exit(report.exit_code)
