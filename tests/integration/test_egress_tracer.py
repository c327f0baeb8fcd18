"""The tracer itself, on a small real program: what it must catch (native resolver, IPv6,
a subprocess) and what it must let pass (loopback, Unix sockets). Fast, no model."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from greenpair.core.egress import run_traced
from tests.helpers.egress import require_tracing

PROGRAM = r"""
import socket, subprocess, sys

def attempt(family, kind, address):
    s = socket.socket(family, kind)
    try:
        s.connect(address)
    except OSError:
        pass
    finally:
        s.close()

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
attempt(socket.AF_INET, socket.SOCK_STREAM, server.getsockname())   # loopback: allowed
attempt(socket.AF_UNIX, socket.SOCK_STREAM, "/nonexistent.sock")    # local: allowed
attempt(socket.AF_INET, socket.SOCK_DGRAM, ("192.0.2.7", 123))       # caught
attempt(socket.AF_INET6, socket.SOCK_STREAM, ("2001:db8::1", 443))   # caught
try:
    socket.getaddrinfo("telemetry.example.com", 443)                # DNS: caught
except OSError:
    pass
subprocess.run([sys.executable, "-c",                                # a child: caught
                "import socket; s = socket.socket(); s.settimeout(1)\n"
                "try: s.connect(('198.51.100.9', 80))\nexcept OSError: pass"])
"""


def test_the_tracer_catches_native_dns_ipv6_and_children_and_passes_local_sockets(
    tmp_path: Path,
) -> None:
    require_tracing()
    done = run_traced([sys.executable, "-c", PROGRAM], tmp_path / "t.trace",
                      dict(os.environ), timeout=120, loopback=True)
    assert done.exit_code == 0, done.stderr
    caught = {(a.address, a.port) for a in done.attempts}
    assert ("192.0.2.7", 123) in caught
    assert ("2001:db8::1", 443) in caught
    assert ("198.51.100.9", 80) in caught  # from the child process
    assert any(port == 53 for _, port in caught), caught  # the C resolver's lookup
    assert not any(a.address.startswith("127.") and a.port != 53 for a in done.attempts)
    assert len({a.pid for a in done.attempts}) >= 2  # parent and child, each named
    assert all(a.command for a in done.attempts)


def test_a_long_running_command_is_interrupted_like_ctrl_c(tmp_path: Path) -> None:
    require_tracing()
    # The handler is installed by the program itself: a shell that starts the suite in the
    # background leaves SIGINT ignored, and Python then keeps it so.
    program = ("import signal, threading\n"
               "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
               "try:\n    threading.Event().wait()\n"
               "except KeyboardInterrupt:\n    print('stopped')\n")
    done = run_traced([sys.executable, "-c", program], tmp_path / "t.trace", dict(os.environ),
                      timeout=60, stop_after_s=1.0)
    assert (done.exit_code, done.stdout.strip()) == (0, "stopped")
    assert done.attempts == []


def test_a_command_that_ignores_ctrl_c_is_terminated_after_a_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from greenpair.core import egress

    require_tracing()
    monkeypatch.setattr(egress, "STOP_GRACE_S", 1.0)
    program = ("import signal, threading\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
               "print('ignoring', flush=True)\nthreading.Event().wait()\n")
    started = time.monotonic()
    done = run_traced([sys.executable, "-c", program], tmp_path / "t.trace", dict(os.environ),
                      timeout=60, stop_after_s=1.0)
    assert done.stdout.strip() == "ignoring"
    assert done.exit_code != 0  # SIGTERM, well before the 60 s timeout
    assert time.monotonic() - started < 30
