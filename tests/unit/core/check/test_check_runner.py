"""The check's runner: a deadline that kills the whole process group, and no network."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from greenpair.core.assistant.check import CheckOptions, check_changes
from greenpair.core.assistant.check.runner import run_command
from greenpair.core.assistant.patch.editing import FileChange
from greenpair.core.egress import namespace_prefix
from tests.conftest import IN_CI
from tests.helpers.check_repos import python_repo

MARKER = "greenpair-check-sleeper-4242"


def _require_namespace() -> None:
    """A network namespace must be here (CI, as root: fail without one; elsewhere: skip)."""
    if namespace_prefix() is None:
        msg = "unshare -n (root) or unshare -rn (user namespaces) is needed for this check"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


def _alive_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path("/proc", pid, "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(pid))
    return found


def test_a_test_that_sleeps_forever_is_killed_and_reported(tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", {
        "slow.py": "def f():\n    return 1\n",
        "test_slow.py": f"""
            import subprocess
            import time

            from slow import f


            def test_forever():
                subprocess.Popen(["sh", "-c", "sleep 1000 # {MARKER}"])
                assert f() == 1
                time.sleep(10**6)
            """,
    })
    started = time.monotonic()
    result = check_changes(repo, [FileChange("slow.py", b"def f():\n    return 1\n",
                                             b"def f():\n    return 2 - 1\n")],
                           options=CheckOptions(timeout_s=10))
    assert time.monotonic() - started < 40
    assert result.status == "timeout"
    assert "killed after" in result.output
    assert result.summary.startswith("static check passed · tests stopped at the time limit")
    assert _alive_with(MARKER) == []  # the test's own child went with the group


def test_the_tests_run_without_network(tmp_path: Path) -> None:
    _require_namespace()
    repo = python_repo(tmp_path / "repo", {
        "net.py": "HOST = '93.184.215.14'\n",
        "test_net.py": """
            import socket

            from net import HOST


            def test_reaches_out():
                print("interfaces:", [n for _, n in socket.if_nameindex()])
                s = socket.create_connection((HOST, 80), timeout=5)
                s.close()


            def test_loopback_still_works():
                server = socket.socket()
                server.bind(("127.0.0.1", 0))
                server.listen()
                socket.create_connection(server.getsockname(), timeout=5).close()
            """,
    })
    result = check_changes(repo, [FileChange("net.py", b"HOST = '93.184.215.14'\n",
                                             b"HOST = '93.184.215.34'\n")])
    assert result.namespace is True
    assert result.status == "failed"
    assert result.failed == 1
    assert "test_net.py::test_loopback_still_works" in result.tests_run
    assert "Network is unreachable" in result.output


def test_run_command_outside_the_namespace_for_comparison(tmp_path: Path) -> None:
    done = run_command(["sh", "-c", "echo out; echo err >&2; exit 3"], tmp_path, timeout=10)
    assert done.exit_code == 3
    assert "out" in done.output
    assert "err" in done.output
    _require_namespace()
    inside = run_command(["cat", "/proc/net/dev"], tmp_path, timeout=10)
    interfaces = [ln.split(":")[0].strip() for ln in inside.output.splitlines()[2:]]
    assert interfaces == ["lo"]
