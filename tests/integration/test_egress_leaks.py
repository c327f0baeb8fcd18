"""The negative control on a real entry point, in CI: a traced ``greenpair`` process that
tries to leave is caught, by every route the check claims to cover.

The test-only switch ``GREENPAIR_TEST_LEAK`` (``greenpair/cli/leak_probe.py``; the app never
sets it) makes ``greenpair`` make one external connect, send one DNS query to the resolver,
and look a host name up through a Unix-socket resolver stub that this test starts (nscd's
protocol, at a path with an ordinary name, from inside the traced network namespace: path
sockets cross it). Each must be reported; without the switch the same command is clean.
A crash at start-up must make ``greenpair audit`` say "incomplete" and exit 2, not clean.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.egress import DNS_PORT, run_traced
from tests.helpers.egress import ROOT, greenpair, require_tracing

REQUEST_HEADER = struct.Struct("<iii")  # nscd: version, type, key length


@pytest.fixture
def resolver_stub(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """A Unix-socket name resolver: answers nscd requests "not found" and records the
    names asked. It holds a UDP socket, as a resolver that forwards upstream does."""
    path = tmp_path / "stub.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upstream.bind(("0.0.0.0", 0))
    asked: list[str] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return  # closed at teardown
            with conn:
                data = conn.recv(4096)
                if len(data) >= REQUEST_HEADER.size:
                    _version, _kind, length = REQUEST_HEADER.unpack_from(data)
                    asked.append(data[12:12 + length].rstrip(b"\0").decode())
                conn.sendall(REQUEST_HEADER.pack(2, -1, 0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield path, asked
    finally:
        server.close()
        upstream.close()
        thread.join(timeout=5)


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "app"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def test_a_traced_greenpair_that_leaks_is_caught_by_every_route(
    tmp_path: Path, resolver_stub: tuple[Path, list[str]], greenpair_home: Path
) -> None:
    require_tracing()
    stub, asked = resolver_stub
    argv = greenpair("models", "list")
    clean = run_traced(argv, tmp_path / "clean.trace", _env(), timeout=120)
    assert clean.exit_code == 0, clean.stderr
    assert clean.attempts == [], [a.describe() for a in clean.attempts]

    leaked = run_traced(argv, tmp_path / "leak.trace",
                        _env(GREENPAIR_TEST_LEAK=f"connect,resolver,unix={stub}"), timeout=120)
    assert leaked.exit_code == 0, leaked.stderr  # it carried on: only the trace tells
    seen = [a.describe() for a in leaked.attempts]
    connects = [a for a in leaked.attempts if (a.address, a.port) == ("192.0.2.1", 443)]
    assert [(a.syscall, a.kind) for a in connects] == [("connect", "network")], seen
    dns = [a for a in leaked.attempts if a.syscall == "sendto" and a.port == DNS_PORT]
    assert len(dns) == 1, seen
    assert dns[0].kind == "network"
    lookups = [a for a in leaked.attempts if a.kind == "lookup"]
    assert lookups, seen
    assert {a.address for a in lookups} == {str(stub)}
    assert any("nscd host request ('greenpair-leak.invalid')" in a.reason for a in lookups)
    assert asked == ["greenpair-leak.invalid"]  # the stub really got the name, namespace or not
    assert len(leaked.attempts) == 1 + 1 + len(lookups)


@pytest.mark.model
def test_a_crash_at_start_up_makes_the_audit_incomplete(tmp_repo: Path,
                                                        tiny_model_path: Path) -> None:
    require_tracing()
    done = subprocess.run([sys.executable, "-m", "greenpair", "audit", "--repo", str(tmp_repo),
                           "--json", "--model", str(tiny_model_path)],
                          env=_env(GREENPAIR_TEST_LEAK="crash"), capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    assert (report["verdict"], report["clean"], report["attempts"]) == ("incomplete", False, [])
    steps = {e["name"]: e for e in report["entry_points"]}
    assert steps["index"]["exit_code"] == 70
    assert not any(e["completed"] for e in report["entry_points"])
    assert "index did not complete: exit 70: Error: GREENPAIR_TEST_LEAK=crash" in \
        report["reasons"][0]
    assert "Incomplete:" in done.stderr
