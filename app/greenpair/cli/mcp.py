"""``greenpair mcp``: Greenpair as an MCP server for agents and editors (a client of core).

``greenpair mcp --repo PATH`` speaks MCP over stdin/stdout (what an agent spawns);
``--http`` serves streamable HTTP on 127.0.0.1 at ``/mcp`` instead, behind the bearer token
of ``greenpair serve token``. Nothing is printed to stdout but the protocol: progress and
notes go to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from greenpair.core.errors import GreenpairError

if TYPE_CHECKING:
    from greenpair.server.services import Services

DEFAULT_PORT = 8766


def _services(paths: list[Path], model: str | None) -> Services:
    """What the MCP tools share, from this command's composition root (as ``serve``)."""
    from greenpair.cli.context import services
    from greenpair.cli.serve import _runtime
    from greenpair.core.llm.remote import RemoteRuntime
    from greenpair.server.services import Services

    runtime = _runtime(model)
    core = services()
    return Services(repos=paths, runtime=runtime, meter=core.meter, settings=core.settings,
                    retrievers={p: core.index(p) for p in paths}, embedders=core.embedders,
                    remote_energy=isinstance(runtime, RemoteRuntime))


def _probe(repo: Path, model: str | None, query: str) -> None:
    import json

    from greenpair.mcp.probe import probe

    try:
        click.echo(json.dumps(probe(repo, model, query)))
    except Exception as exc:  # any failure means the session did not run
        raise GreenpairError(f"The MCP session failed: {exc!r}",
                             hint="Run `greenpair mcp --repo PATH` by hand to see why.") from exc


@click.command("mcp")
@click.option("--repo", "repos", type=click.Path(path_type=Path, file_okay=False),
              multiple=True, help="A repository to answer for (repeat; the first is the "
              "default). Default: the current folder.")
@click.option("--http", "use_http", is_flag=True,
              help="Serve streamable HTTP (bearer token) instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address (--http).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port (--http).")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host.")
@click.option("--model", default=None, help="A catalog model id or a GGUF path "
              "(default: the settings' model or remote server).")
@click.option("--no-index", is_flag=True, help="Do not update the indexes at start.")
@click.option("--no-watch", is_flag=True, help="Do not re-index files saved while serving "
              "(the indexes then stay as they were at start).")
@click.option("--probe", default=None, hidden=True, metavar="QUERY",
              help="Run a short client session against a child `greenpair mcp` over stdio "
              "and print it as JSON (the privacy audit's MCP step).")
def mcp_cmd(repos: tuple[Path, ...], use_http: bool, host: str, port: int,
            allow_remote: bool, model: str | None, no_index: bool, no_watch: bool,
            probe: str | None) -> None:
    """Serve the index and the local model to MCP clients (search, read, ask, patch)."""
    from greenpair.cli.context import services as core_services
    from greenpair.cli.index import kept_fresh
    from greenpair.cli.serve import _build_indexes, check_bind_host, check_port_free
    from greenpair.core.assistant.retriever import check_repo
    from greenpair.mcp.app import MCP_PATH, build_server, http_app

    if probe is not None:
        _probe(check_repo(repos[0] if repos else Path(".")), model, probe)
        return
    if use_http:
        check_bind_host(host, allow_remote)
        check_port_free(host, port)
    paths = [check_repo(r) for r in (repos or (Path("."),))]
    if len({p.name for p in paths}) != len(paths):
        raise GreenpairError("Two repositories have the same folder name.",
                             hint="Clients name repositories by folder name; rename one.")
    if not no_index:
        _build_indexes(paths)  # progress on stderr: stdout carries the protocol
    services = _services(paths, model)
    server = build_server(services)
    try:
        with kept_fresh([core_services().index(p) for p in paths], enabled=not no_watch):
            if not use_http:
                server.run("stdio")
                return
            import uvicorn

            from greenpair.server.auth import load_or_create_token, token_path

            app = http_app(server, load_or_create_token(), host)
            click.secho(f"Greenpair MCP for {', '.join(p.name for p in paths)} on "
                        f"http://{host}:{port}{MCP_PATH}", err=True)
            click.secho(f"Token: {token_path()} (`greenpair serve token`)", dim=True,
                        err=True)
            uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        services.close()
