"""The single-instance socket: round trips, a second instance, stale sockets, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from PySide6.QtNetwork import QLocalServer

from greenpair.ui.tray.single_instance import SingleInstanceServer, send_to_running, server_name

CLIENT = """
import json, sys
from greenpair.ui.tray.single_instance import SingleInstanceServer, send_to_running
if sys.argv[1] == "listen":
    print(json.dumps(SingleInstanceServer().listen()))
else:
    print(json.dumps(send_to_running(json.loads(sys.argv[1]))))
"""


def _in_process(qtbot: Any, arg: str) -> Any:
    """Run a client in another process (as the CLI does) while this GUI thread serves.

    Not a thread: PySide holds the GIL in blocking socket waits, so a client thread would
    starve the server.
    """
    proc = subprocess.Popen([sys.executable, "-c", CLIENT, arg], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=20_000)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    return json.loads(out)


def _send(qtbot: Any, message: dict[str, Any]) -> Any:
    return _in_process(qtbot, json.dumps(message))


@pytest.fixture
def server(qtbot: Any) -> Any:
    srv = SingleInstanceServer()
    assert srv.listen()
    yield srv
    srv.close()


def test_round_trip_delivers_the_message_and_replies(qtbot: Any, server: Any) -> None:
    with qtbot.waitSignal(server.message_received, timeout=5000) as blocker:
        reply = _send(qtbot, {"cmd": "suggest", "mode": "fix"})
    assert reply == {"ok": True}
    assert blocker.args == [{"cmd": "suggest", "mode": "fix"}]


def test_ping_answers_with_the_pid_and_emits_nothing(qtbot: Any, server: Any) -> None:
    with qtbot.assertNotEmitted(server.message_received):
        reply = _send(qtbot, {"cmd": "ping"})
    assert reply == {"ok": True, "pid": os.getpid()}


def test_invalid_messages_get_an_error_reply(qtbot: Any, server: Any) -> None:
    with qtbot.assertNotEmitted(server.message_received):
        assert _send(qtbot, {"mode": "fix"}) == {
            "ok": False, "error": "expected a JSON object with a 'cmd' key"}


def test_no_instance_means_none(qtbot: Any) -> None:
    assert send_to_running({"cmd": "ping"}, timeout_ms=500) is None


def test_the_name_depends_on_the_data_directory(tmp_path: Any, monkeypatch: Any) -> None:
    first = server_name()
    monkeypatch.setenv("GREENPAIR_HOME", str(tmp_path / "other-home"))
    assert server_name() != first
    assert server_name().startswith("greenpair-")


def test_a_second_instance_does_not_take_over(qtbot: Any, server: Any) -> None:
    assert _in_process(qtbot, "listen") is False
    assert server.is_listening()
    with qtbot.waitSignal(server.message_received, timeout=5000):
        assert _send(qtbot, {"cmd": "show"}) == {"ok": True}


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets only")
def test_a_stale_socket_is_replaced(qtbot: Any) -> None:
    # A crashed instance leaves its socket file behind: nobody answers on it.
    import socket
    import tempfile
    from pathlib import Path

    path = Path(tempfile.gettempdir()) / server_name()
    QLocalServer.removeServer(server_name())
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # bound, never listening: like a dead process's socket
    assert path.exists()
    srv = SingleInstanceServer()
    try:
        assert srv.listen()
        with qtbot.waitSignal(srv.message_received, timeout=5000):
            assert _send(qtbot, {"cmd": "show"}) == {"ok": True}
    finally:
        srv.close()


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "greenpair", "suggest", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )


def test_cli_suggest_reaches_the_running_instance(qtbot: Any, server: Any) -> None:
    with qtbot.waitSignal(server.message_received, timeout=20_000) as blocker:
        proc = _cli("--mode", "explain")
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=20_000)
    _out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert blocker.args == [{"cmd": "suggest", "mode": "explain"}]


def test_cli_suggest_without_an_instance_says_how_to_start_one() -> None:
    proc = _cli()
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "Greenpair is not running" in err
    assert "greenpair suggest --start" in err
    assert "Traceback" not in err
