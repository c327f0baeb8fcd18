"""The MCP server: Greenpair's tools and resources on the official MCP Python SDK.

``build_server(services)`` registers the tools of ``tools`` (their JSON schemas come from
the annotated signatures) and the resources of ``repomap``; ``http_app(server, token)``
is the streamable HTTP application behind the same bearer token as ``greenpair serve``
(401 before any work without it). Over stdio the client that spawned the process is
trusted, as it is for every stdio MCP server: it could read the files itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from greenpair import __version__
from greenpair.core.errors import GreenpairError
from greenpair.mcp import repomap, tools
from greenpair.server.auth import bearer_matches

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

_T = TypeVar("_T")
NAME = "greenpair"
MCP_PATH = "/mcp"
_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False,
                             open_world_hint=False)

Repo = Annotated[str | None, Field(
    default=None, description="Which served repository (folder name); default: the first.")]


def _as_tool_error(call: Callable[[], _T]) -> _T:
    """Run ``call``; a Greenpair error reaches the agent as a tool error with its hint."""
    try:
        return call()
    except GreenpairError as exc:
        raise ToolError(exc.message + (f" {exc.hint}" if exc.hint else "")) from exc


def _instructions(names: list[str]) -> str:
    return (
        "Greenpair answers from a local index of the repositories "
        f"{', '.join(names)} and a local model; no code leaves this machine. Start with "
        "search_code to find where something is handled, read_span to read the lines, "
        "ask_code for an explained answer with citations (slow: a local model), and "
        "propose_patch for a diff you then apply yourself. Spans are path:start-end."
    )


def build_server(services: tools.ToolServices) -> MCPServer:
    """An MCP server whose tools and resources work on ``services``."""
    names = [r.name for r in services.repos]
    server: MCPServer = MCPServer(NAME, title="Greenpair", version=__version__,
                                  instructions=_instructions(names), log_level="WARNING")
    _add_search_tools(server, services)
    _add_model_tools(server, services)
    _add_resources(server, services)
    return server


def _add_search_tools(server: MCPServer, services: tools.ToolServices) -> None:
    @server.tool(annotations=_READ_ONLY)
    def search_code(
        query: Annotated[str, Field(description="What to find: a behaviour, an error "
                                    "message, a symbol or a file name, in plain words.")],
        k: Annotated[int, Field(ge=1, le=tools.MAX_K, description="How many files to "
                                "rank.")] = 8,
        repo: Repo = None,
    ) -> dict[str, Any]:
        """Find where something is handled in the repository (fast, no model).

        Returns the files ranked best first and their best spans as path:start-end, each
        with the symbol it defines, a score and the reasons it was picked. Read a span
        with read_span.
        """
        return _as_tool_error(lambda: tools.search_code(services, query, k, repo))

    @server.tool(annotations=_READ_ONLY)
    def read_span(
        path: Annotated[str, Field(description="Repository-relative path, as search_code "
                                   "returns it.")],
        start: Annotated[int, Field(ge=1, description="First line (1-based).")],
        end: Annotated[int, Field(ge=1, description="Last line, inclusive (at most "
                                  f"{tools.MAX_SPAN_LINES} lines per call).")],
        repo: Repo = None,
    ) -> dict[str, Any]:
        """Read lines of a file in the index.

        Only files Greenpair indexes can be read: never a path outside the repository,
        an ignored file (.gitignore, .greenpairignore), a secret (.env, keys,
        credentials), a binary or a generated file.
        """
        return _as_tool_error(lambda: tools.read_span(services, path, start, end, repo))

    @server.tool(annotations=_READ_ONLY)
    def energy_report(
        days: Annotated[float, Field(gt=0, le=366, description="How many days back.")] = 7,
    ) -> dict[str, Any]:
        """What Greenpair's work cost: joules, gCO2e and tokens by kind of work
        (answers, patches, searches, indexing), from the local energy ledger."""
        return _as_tool_error(lambda: tools.energy_report(services, days))


def _add_model_tools(server: MCPServer, services: tools.ToolServices) -> None:
    @server.tool(annotations=_READ_ONLY)
    def ask_code(
        question: Annotated[str, Field(description="A question about the code, e.g. "
                                       "'where are expired sessions removed?'.")],
        repo: Repo = None,
    ) -> dict[str, Any]:
        """Answer a question about the code with the local model, citing the lines used.

        Slow on a laptop CPU (tens of seconds). Citations are checked against the code
        shown to the model and returned as path:start-end spans. When the model had been
        unloaded while idle, loaded_for_this_request is true and the load time is
        included in ttft_s.
        """
        return _as_tool_error(lambda: tools.ask_code(services, question, repo))

    @server.tool(annotations=_READ_ONLY)
    def propose_patch(
        task: Annotated[str, Field(description="The change to make, naming the function "
                                   "or file when you know it.")],
        file: Annotated[str | None, Field(description="The file to change, when the task "
                                          "names a function defined in several.")] = None,
        repo: Repo = None,
        check: Annotated[bool | None, Field(description="Run the repository's nearest tests "
                                            "and a static check on the diff in a scratch copy "
                                            "(no network), repairing it once on failure. "
                                            "Default: as the user allowed for this "
                                            "repository.")] = None,
    ) -> dict[str, Any]:
        """Draft a unified diff for a change with the local model. Never applied.

        The diff is validated (it applies cleanly and adds no parse error). The check
        field says exactly what ran on it ("static check passed · 14 tests passed", a
        failing output, "no tests found", or "not checked"); apply the diff yourself
        (git apply) after reviewing it.
        """
        return _as_tool_error(lambda: tools.propose_patch(services, task, file, repo, check))


def _add_resources(server: MCPServer, services: tools.ToolServices) -> None:
    @server.resource("greenpair://repos", name="repositories", mime_type="application/json",
                     description="The repositories this server answers for, and the model.")
    def repositories() -> str:
        return json.dumps({"repos": [{"name": r.name, "path": str(r)} for r in services.repos],
                           "model": repomap.model_status(services.runtime)})

    for root in services.repos:
        server.resource(f"greenpair://{root.name}/status", name=f"{root.name} index status",
                        mime_type="application/json",
                        description="Files, chunks, embeddings, skipped files and the "
                                    "last update of the index; whether the model is loaded.",
                        )(_status_reader(services, root))
        server.resource(f"greenpair://{root.name}/map", name=f"{root.name} repository map",
                        mime_type="text/plain",
                        description="Indexed files by folder with the definitions in each "
                                    "(kind name:line).")(_map_reader(services, root))


def _status_reader(services: tools.ToolServices, root: Path) -> Callable[[], str]:
    def status() -> str:
        index = services.retriever(root)
        return json.dumps(repomap.index_status(index, root, services.runtime))
    return status


def _map_reader(services: tools.ToolServices, root: Path) -> Callable[[], str]:
    def repo_map() -> str:
        return repomap.repository_map(services.retriever(root), root.name)
    return repo_map


class BearerGuard:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer <token>``.

    Args:
        app: The MCP application.
        token: The token (``greenpair serve token`` prints it).
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = dict(scope.get("headers") or ()).get(b"authorization")
            if not bearer_matches(header.decode("latin-1") if header else None, self.token):
                from starlette.responses import JSONResponse

                response = JSONResponse(
                    {"error": "A valid bearer token is required: `greenpair serve token` "
                              "prints it."},
                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def http_app(server: MCPServer, token: str, host: str = "127.0.0.1") -> ASGIApp:
    """The streamable HTTP application at ``/mcp``, behind the bearer token."""
    return BearerGuard(server.streamable_http_app(streamable_http_path=MCP_PATH, host=host),
                       token)
