"""The MCP server in-process (the SDK's own client, no subprocess): two repositories,
resources per repository, the ``repo`` argument, an unknown repository as a tool error."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
from mcp import Client

from greenpair.core.types import Chunk, ScoredChunk, SearchResult
from greenpair.mcp.app import build_server
from greenpair.server.services import UnknownRepository


class _Index:
    def __init__(self, path: str) -> None:
        self.path = path

    def search(self, query: str, k: int = 10) -> SearchResult:
        chunk = Chunk(self.path, "python", 1, 2, "def handler(): ...", "function", "handler")
        return SearchResult(query, [self.path], [ScoredChunk(chunk, 1.0)])

    def lexical(self) -> Any:
        return SimpleNamespace(paths=[self.path])

    def file_chunks(self, path: str) -> list[Chunk]:
        return [self.search("", 1).chunks[0].chunk]


class _Meter:
    def window(self, kind: str, **meta: Any) -> Any:
        import contextlib

        return contextlib.nullcontext(SimpleNamespace(report=None))


class _Services:
    def __init__(self, repos: list[Path]) -> None:
        self.repos = repos
        self.runtime = SimpleNamespace(model_id="fake", loaded=False, unload_after_idle_s=600)
        self.meter = _Meter()
        self.settings = None
        self.indexes = {r: _Index(f"{r.name}/main.py") for r in repos}

    def resolve_repo(self, name: str | None) -> Path:
        for repo in self.repos:
            if name in (None, repo.name):
                return repo
        raise UnknownRepository(f"This server does not serve the repository {name!r}.",
                                hint="Served: " + ", ".join(r.name for r in self.repos))

    def retriever(self, repo: Path) -> Any:
        return self.indexes[repo]


async def _session(services: _Services) -> dict[str, Any]:
    async with Client(build_server(services)) as client:  # type: ignore[arg-type]
        uris = sorted(str(r.uri) for r in (await client.list_resources()).resources)
        first = await client.call_tool("search_code", {"query": "handler"})
        second = await client.call_tool("search_code", {"query": "handler", "repo": "beta"})
        unknown = await client.call_tool("search_code", {"query": "x", "repo": "gamma"})
        status = await client.read_resource("greenpair://beta/map")
        return {"uris": uris, "first": first.structured_content,
                "second": second.structured_content, "unknown": unknown,
                "map": status.contents[0].text}


def test_several_repositories(tmp_path: Path) -> None:
    services = _Services([tmp_path / "alpha", tmp_path / "beta"])
    out = anyio.run(_session, services)
    assert out["uris"] == ["greenpair://alpha/map", "greenpair://alpha/status",
                           "greenpair://beta/map", "greenpair://beta/status",
                           "greenpair://repos"]
    assert out["first"]["repo"] == "alpha"
    assert out["first"]["spans"][0]["span"] == "alpha/main.py:1-2"
    assert out["second"]["repo"] == "beta"
    assert out["unknown"].is_error
    assert "Served: alpha, beta" in out["unknown"].content[0].text
    assert out["map"] == "# beta: 1 indexed files\nbeta/\n  main.py: function handler:1"
