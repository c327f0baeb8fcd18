"""A short agent session against ``greenpair mcp``, for the privacy audit.

``greenpair mcp --probe QUERY`` runs this: the official MCP client spawns ``greenpair mcp``
over stdio (a child process, so a tracer that follows children sees both), lists the
tools, calls ``search_code``, ``read_span`` on the top span and ``ask_code``, and prints
one JSON object. The exit code is 0 only when every call returned a result, so an audit
that reports "0 attempts" for it knows the tools really ran.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def _server_argv(repo: Path, model: str | None) -> tuple[str, list[str]]:
    args = ["mcp", "--repo", str(repo), "--no-index"]
    if model:
        args += ["--model", model]
    if getattr(sys, "frozen", False):  # a packaged build: the executable is Greenpair
        return sys.executable, args
    return sys.executable, ["-m", "greenpair", *args]


def _payload(result: Any) -> dict[str, Any]:
    if result.is_error or not isinstance(result.structured_content, dict):
        text = " ".join(getattr(c, "text", "") for c in result.content)
        raise RuntimeError(f"the tool failed: {text}")
    return result.structured_content


async def _session(repo: Path, model: str | None, query: str) -> dict[str, Any]:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    command, args = _server_argv(repo, model)
    params = StdioServerParameters(command=command, args=args, env=dict(os.environ))
    async with Client(params, read_timeout_seconds=600) as client:
        tools = sorted(t.name for t in (await client.list_tools()).tools)
        found = _payload(await client.call_tool("search_code", {"query": query, "k": 3}))
        spans = found["spans"]
        read = None
        if spans:
            top = spans[0]
            read = _payload(await client.call_tool("read_span", {
                "path": top["path"], "start": top["start_line"], "end": top["end_line"]}))
        answer = _payload(await client.call_tool("ask_code", {"question": f"Where is {query}?"}))
    return {"tools": tools, "files": [f["path"] for f in found["files"]],
            "read": read["span"] if read else None,
            "citations": [c["span"] for c in answer["citations"]], "ok": True}


def probe(repo: Path, model: str | None, query: str) -> dict[str, Any]:
    """Run the session; raises when the server or a tool fails."""
    import anyio

    return anyio.run(_session, repo, model, query)
