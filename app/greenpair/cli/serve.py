"""``greenpair serve``: the OpenAI-compatible API for editors (a client of core).

``greenpair serve --repo PATH`` listens on 127.0.0.1; ``greenpair serve token`` prints the
bearer token that clients must send. Binding to another address needs ``--allow-remote``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from greenpair.cli.context import services
from greenpair.core.errors import GreenpairError, PrivacyError

if TYPE_CHECKING:
    from greenpair.core.llm.runtime import Runtime

DEFAULT_PORT = 8765


def check_bind_host(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless the user said ``--allow-remote``.

    Raises:
        PrivacyError: ``host`` is not loopback and ``allow_remote`` is False.
    """
    from greenpair.core.privacy import is_loopback_host

    if not is_loopback_host(host) and not allow_remote:
        raise PrivacyError(
            f"Refusing to listen on {host}: only this machine (127.0.0.1) by default.",
            hint="Add --allow-remote to serve other machines (clients still need the token "
                 "from `greenpair serve token`); put TLS in front of it on a shared network.",
        )


def check_port_free(host: str, port: int) -> None:
    """Fail early, with the fix, when the address is taken (uvicorn would only log it).

    Raises:
        GreenpairError: Something already listens on ``host:port``.
    """
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise GreenpairError(
                f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
                hint="Another program (or another greenpair serve) uses it; pick one with "
                     "--port.",
            ) from exc


def _runtime(model: str | None) -> Runtime:
    from greenpair.core.assistant.retriever import open_model

    return open_model(model, services().settings) if model else services().runtime()


def _build_indexes(repos: list[Path]) -> None:
    from greenpair.cli.index import run_index

    for repo in repos:
        index = services().index(repo)
        click.secho(f"Indexing {repo} (only changed files are redone)…", dim=True, err=True)
        run_index(index)


@click.group("serve", invoke_without_command=True)
@click.option("--repo", "repos", type=click.Path(path_type=Path, file_okay=False),
              multiple=True, help="A repository to serve (repeat; the first is the default). "
              "Default: the current folder.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--model", default=None, help="A catalog model id or a GGUF path "
              "(default: the settings' model or remote server).")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host.")
@click.option("--queue", "queue", default=8, show_default=True, type=int,
              help="Generation requests allowed to wait; more get HTTP 429.")
@click.option("--no-index", is_flag=True, help="Do not update the indexes at start.")
@click.option("--no-watch", is_flag=True, help="Do not re-index files saved while serving "
              "(the indexes then stay as they were at start).")
@click.pass_context
def serve_group(ctx: click.Context, repos: tuple[Path, ...], host: str, port: int,
                model: str | None, allow_remote: bool, queue: int, no_index: bool,
                no_watch: bool) -> None:
    """Serve an OpenAI-compatible API (chat, completions with FIM, search, embeddings)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from greenpair.cli.index import kept_fresh
    from greenpair.core.assistant.retriever import check_repo
    from greenpair.core.llm.remote import RemoteRuntime
    from greenpair.server.app import create_app
    from greenpair.server.auth import load_or_create_token, token_path
    from greenpair.server.services import Limits, Services

    check_bind_host(host, allow_remote)
    check_port_free(host, port)
    paths = [check_repo(r) for r in (repos or (Path("."),))]
    if len({p.name for p in paths}) != len(paths):
        raise GreenpairError("Two served repositories have the same folder name.",
                             hint="Clients name repositories by folder name; rename one.")
    if not no_index:
        _build_indexes(paths)
    runtime = _runtime(model)
    core = services()
    served = Services(repos=paths, runtime=runtime, meter=core.meter, settings=core.settings,
                      retrievers={p: core.index(p) for p in paths}, embedders=core.embedders,
                      limits=Limits(generate_waiting=queue),
                      remote_energy=isinstance(runtime, RemoteRuntime))
    app = create_app(served, load_or_create_token())
    click.secho(f"Greenpair serves {', '.join(p.name for p in paths)} with "
                f"{served.model_id} on http://{host}:{port}/v1", err=True)
    click.secho(f"Token: {token_path()} (`greenpair serve token`)", dim=True, err=True)
    try:
        with kept_fresh([core.index(p) for p in paths], enabled=not no_watch):
            uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        served.close()


@serve_group.command("token")
@click.option("--path", "show_path", is_flag=True, help="Print the file's path instead.")
def token_cmd(show_path: bool) -> None:
    """Print the bearer token clients send (created on first use)."""
    from greenpair.server.auth import load_or_create_token, token_path

    token = load_or_create_token()
    click.echo(str(token_path()) if show_path else token)
