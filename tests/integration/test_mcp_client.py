"""``greenpair mcp`` driven by the official MCP client SDK, as an agent would drive it.

The server is the real console entry point in a subprocess: over stdio (what agents
spawn) the client lists the tools and resources and calls every tool on a small git
repository with the tiny model; over streamable HTTP the same client needs the bearer
token, and a request without it gets 401 before any work. Set ``GREENPAIR_MCP_TRANSCRIPT``
to a file path to keep the stdio session's transcript (tools listed, calls, results).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from tests.conftest import git
from tests.helpers.serving import free_port_and_token

if sys.version_info >= (3, 11):
    from builtins import ExceptionGroup
else:  # anyio's dependency on older Pythons
    from exceptiongroup import ExceptionGroup

pytestmark = [pytest.mark.model, pytest.mark.slow]

TOOLS = {"search_code", "read_span", "ask_code", "propose_patch", "energy_report"}


def _result(call: Any) -> dict[str, Any]:
    """A tool result as JSON (its structured content, or the error text)."""
    if call.is_error:
        return {"error": " ".join(getattr(c, "text", "") for c in call.content)}
    assert isinstance(call.structured_content, dict)
    return call.structured_content


def _hostile_files(repo: Path) -> None:
    """A secret, an ignored file and a file outside the repository, all never readable."""
    (repo / ".env").write_text("API_KEY=sk-not-for-agents\n")
    (repo / ".gitignore").write_text("build/\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.py").write_text("SECRET_BUILD = 1\n")
    (repo.parent / "outside.py").write_text("OUTSIDE = 1\n")
    git(repo, "add", ".gitignore")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-qm", "ign")


async def _stdio_session(params: StdioServerParameters, repo: Path) -> list[dict[str, Any]]:
    transcript: list[dict[str, Any]] = []

    async def call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
        began = time.perf_counter()
        result = _result(await client.call_tool(name, args))
        transcript.append({"call": name, "arguments": args, "result": result,
                           "seconds": round(time.perf_counter() - began, 2)})
        return result

    async with Client(params, read_timeout_seconds=300) as client:
        tools = (await client.list_tools()).tools
        transcript.append({"tools": [{"name": t.name, "description": t.description,
                                      "input_schema": t.input_schema,
                                      "read_only": t.annotations.read_only_hint
                                      if t.annotations else None} for t in tools]})
        resources = (await client.list_resources()).resources
        transcript.append({"resources": [str(r.uri) for r in resources]})
        repo_map = await client.read_resource("greenpair://repo/map")
        status = await client.read_resource("greenpair://repo/status")
        transcript.append({"read": "greenpair://repo/map", "text": repo_map.contents[0].text})
        transcript.append({"read": "greenpair://repo/status",
                           "json": json.loads(status.contents[0].text)})
        await call(client, "search_code", {"query": "apply a discount code", "k": 3})
        await call(client, "read_span", {"path": "src/shop/discounts.py", "start": 4, "end": 8})
        for bad in (".env", "build/out.py", "../outside.py", "/etc/passwd"):
            await call(client, "read_span", {"path": bad, "start": 1, "end": 1})
        await call(client, "ask_code", {"question": "What does apply_discount do with HALF?"})
        await call(client, "propose_patch", {"task": "In apply_discount, make the HALF "
                                             "code take 40% off instead of half",
                                             "file": "src/shop/discounts.py"})
        await call(client, "energy_report", {"days": 1})
        await call(client, "search_code", {"query": "", "k": 3})
        transcript.append(await _saved_file_is_found(client, repo))
    return transcript


async def _saved_file_is_found(client: Client, repo: Path) -> dict[str, Any]:
    """Save a new file while the server runs; how long until ``search_code`` finds it."""
    (repo / "src" / "shop" / "refunds.py").write_text(
        "def refund_gift_card(order, card):\n"
        "    \"\"\"Refund a gift card payment back onto the card.\"\"\"\n"
        "    card.balance += order.paid\n    return card\n")
    saved = time.perf_counter()
    files: list[str] = []
    while time.perf_counter() - saved < 60:
        found = _result(await client.call_tool(
            "search_code", {"query": "refund a gift card payment", "k": 3}))
        files = [f["path"] for f in found["files"]]
        if "src/shop/refunds.py" in files:
            break
        await anyio.sleep(0.5)  # the server's re-index has no event a client can wait on
    return {"saved_then_searched": files, "seconds": round(time.perf_counter() - saved, 2)}


def test_an_agent_uses_every_tool_over_stdio(tmp_repo: Path, tiny_model_path: Path) -> None:
    _hostile_files(tmp_repo)
    params = StdioServerParameters(
        command=sys.executable, env=dict(os.environ),
        args=["-m", "greenpair", "mcp", "--repo", str(tmp_repo), "--model",
              str(tiny_model_path)])
    transcript = anyio.run(_stdio_session, params, tmp_repo)
    keep = os.environ.get("GREENPAIR_MCP_TRANSCRIPT")
    if keep:
        Path(keep).write_text(json.dumps(transcript, indent=1), encoding="utf-8")

    tools = {t["name"]: t for t in transcript[0]["tools"]}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert len(tool["description"]) > 40
        assert tool["input_schema"]["type"] == "object"
        assert tool["input_schema"]["properties"]
    assert tools["read_span"]["input_schema"]["required"] == ["path", "start", "end"]
    assert all(t["read_only"] is True for t in tools.values())  # nothing writes the repo
    assert {"greenpair://repos", "greenpair://repo/status",
            "greenpair://repo/map"} <= set(transcript[1]["resources"])
    assert "function apply_discount:4" in transcript[2]["text"]
    assert transcript[3]["json"]["built"] is True
    assert transcript[3]["json"]["files"] >= 5

    # A file saved while the server runs is found without a restart (the watcher).
    assert transcript[-1]["saved_then_searched"][0] == "src/shop/refunds.py", transcript[-1]

    calls = [t for t in transcript if "call" in t]
    search, span, env, ignored, outside, absolute, ask, patch, energy, empty = calls
    assert search["result"]["files"][0]["path"] == "src/shop/discounts.py"
    top = search["result"]["spans"][0]
    assert top["span"].startswith("src/shop/discounts.py:")
    assert top["reasons"]
    assert any("apply_discount" in r for r in top["reasons"])
    assert "def apply_discount(total, code):" in span["result"]["text"]
    assert span["result"]["span"] == "src/shop/discounts.py:4-8"
    for refused in (env, ignored, outside, absolute):
        assert "error" in refused["result"], refused
        assert "sk-not-for-agents" not in json.dumps(refused)
    assert "(secret)" in env["result"]["error"]
    assert "(ignored, private or missing)" in ignored["result"]["error"]
    answer = ask["result"]
    assert answer["answer"], answer
    assert answer["citations"], answer
    assert all(c["span"] == f"{c['path']}:{c['start_line']}-{c['end_line']}"
               for c in answer["citations"])
    assert answer["model"] == tiny_model_path.name
    assert answer["loaded_for_this_request"] is True
    assert answer["model_load_s"] > 0
    assert patch["result"]["applied"] is False
    assert patch["result"]["check"]["status"] in {"not checked", "no diff to check"}
    assert patch["result"]["valid"] == (patch["result"]["error"] is None)
    assert git(tmp_repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert energy["result"]["count"] >= 2
    assert energy["result"]["joules"] > 0
    assert "query is empty" in empty["result"]["error"]


@pytest.fixture
def http_server(tmp_repo: Path, tiny_model_path: Path) -> Iterator[tuple[str, str]]:
    port, token = free_port_and_token()
    proc = subprocess.Popen(
        [sys.executable, "-m", "greenpair", "mcp", "--http", "--repo", str(tmp_repo),
         "--port", str(port), "--model", str(tiny_model_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.post(url, json={}, timeout=2).status_code == 401:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("greenpair mcp --http did not start: "
                        + (proc.stderr.read() if proc.stderr else ""))
        time.sleep(0.25)  # a subprocess has no readiness event to wait on
    yield url, token
    proc.terminate()
    assert proc.wait(30) == 0 or proc.returncode < 0


async def _http_session(url: str, token: str | None, statuses: list[int]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else None

    async def record(response: Any) -> None:
        statuses.append(response.status_code)

    async with create_mcp_http_client(headers=headers) as http:
        http.event_hooks["response"].append(record)
        return await _http_calls(url, http)


async def _http_calls(url: str, http: Any) -> dict[str, Any]:
    async with Client(streamable_http_client(url, http_client=http)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        found = _result(await client.call_tool("search_code", {"query": "discount code"}))
        span = _result(await client.call_tool(
            "read_span", {"path": "src/shop/cart.py", "start": 1, "end": 3}))
        return {"tools": names, "search": found, "span": span}


def test_http_needs_the_token(http_server: tuple[str, str]) -> None:
    url, token = http_server
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    assert httpx.post(url, json=init, headers=accept).status_code == 401
    wrong = {**accept, "Authorization": "Bearer gp-wrong"}
    assert httpx.post(url, json=init, headers=wrong).status_code == 401
    statuses: list[int] = []
    with pytest.raises(ExceptionGroup) as refused:  # the SDK's task group wraps its error
        anyio.run(_http_session, url, None, statuses)
    assert refused.group_contains(MCPError)
    assert statuses  # the client did reach the server...
    assert set(statuses) == {401}  # ...and every request it sent was refused

    statuses.clear()
    session = anyio.run(_http_session, url, token, statuses)
    assert set(statuses) <= {200, 202}
    assert session["tools"] == TOOLS
    assert session["search"]["files"][0]["path"] == "src/shop/discounts.py"
    assert session["span"]["text"].startswith('"""Shopping cart."""')
