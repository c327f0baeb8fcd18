"""Run Greenpair's entry points under strace in a fresh network namespace (the egress tests).

Each command is ``python -m greenpair ARGS`` (or a test driver module) wrapped by
:func:`greenpair.core.egress.traced_argv`. With ``telemetry_guard=False`` the process drops
``ORT_DISABLE_TELEMETRY`` right after ``import greenpair`` set it, before ONNX Runtime
loads: the negative control that shows the check catches ONNX Runtime's lookups. Setting
``GREENPAIR_EGRESS_NEGATIVE=1`` runs every egress test that way (they are then expected to
fail wherever the telemetry client gets time to fire).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from greenpair.core.config import Settings, save_settings
from greenpair.core.egress import Attempt, namespace_prefix, read_egress, traced_argv
from tests.helpers.x11 import IN_CI, wait_for

NEGATIVE = os.environ.get("GREENPAIR_EGRESS_NEGATIVE") == "1"
_DROP_GUARD = ("import os, runpy, sys, greenpair; os.environ.pop('ORT_DISABLE_TELEMETRY', None); "
               "mod = sys.argv.pop(1); sys.argv[0] = mod; runpy.run_module(mod, "
               "run_name='__main__', alter_sys=True)")
REPORT = os.environ.get("GREENPAIR_EGRESS_REPORT")  # a JSON-lines file for the table
ROOT = Path(__file__).resolve().parents[2]
# ONNX Runtime's telemetry client first resolves its host 9.5-9.8 s after the process
# starts (5 runs, fresh and reused HOME: benchmarks/ort_telemetry_delay.py, 2026-12-06),
# then retries: long-running entry points are watched three times longer.
IDLE_S = 30.0
STEP_TIMEOUT_S = 600


@pytest.fixture
def traced_env(greenpair_home: Path, tiny_model_path: Path) -> dict[str, str]:
    """The environment of a traced entry point: the tiny model, the test's data dir, and a
    home folder of its own. ONNX Runtime's telemetry client (when it is on) keeps an
    offline event store in ``~/.cache/Microsoft/DeveloperTools/.onnxruntime``; shared with
    earlier runs, its upload schedule made the negative control see nothing for minutes."""
    require_tracing()
    save_settings(Settings(model=str(tiny_model_path)))
    env = dict(os.environ)
    home = greenpair_home.parent / "home"
    home.mkdir(exist_ok=True)
    env["HOME"] = str(home)
    env.pop("XDG_CACHE_HOME", None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "app"), str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def idle(running: TracedProcess, seconds: float) -> list[Attempt]:
    """Let ``running`` idle; the attempts seen (returns early on the first one)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and running.proc.poll() is None:
        found = running.egress()
        if found:
            return found
        time.sleep(0.5)
    return running.egress()


def require_tracing() -> None:
    """strace and a network namespace must be here (CI: fail; elsewhere: skip)."""
    missing = []
    if shutil.which("strace") is None:
        missing.append("strace (apt-get install strace)")
    if namespace_prefix() is None:
        missing.append("a network namespace (unshare -n: run as root, or allow "
                       "unprivileged user namespaces)")
    if missing:
        msg = "the egress tests need " + " and ".join(missing)
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


def python_argv(module: str, *args: str, telemetry_guard: bool = True) -> list[str]:
    """``python -m MODULE ARGS``, optionally with ONNX Runtime's telemetry left on."""
    if telemetry_guard and not NEGATIVE:
        return [sys.executable, "-m", module, *args]
    return [sys.executable, "-c", _DROP_GUARD, module, *args]


def greenpair(*args: str, telemetry_guard: bool = True) -> list[str]:
    """``python -m greenpair ARGS``."""
    return python_argv("greenpair", *args, telemetry_guard=telemetry_guard)


def record(name: str, argv: list[str], exit_code: int | None, attempts: list[Attempt]) -> None:
    """Append a row to the table file named by ``GREENPAIR_EGRESS_REPORT`` (if set)."""
    if not REPORT:
        return
    row = {"entry_point": name, "attempts": len(attempts), "exit_code": exit_code,
           "telemetry_guard": "ORT_DISABLE_TELEMETRY" not in " ".join(argv),
           "details": [a.describe() for a in attempts[:5]]}
    with open(REPORT, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")


@dataclass
class TracedProcess:
    """A long-running traced command (watch, the window, the tray)."""

    proc: subprocess.Popen[bytes]
    trace: Path
    log: Path
    env: dict[str, str] = field(repr=False)

    def output(self) -> str:
        """What it printed so far (stdout and stderr)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def egress(self) -> list[Attempt]:
        """The attempts in the trace so far."""
        return read_egress(self.trace)

    def traced_pid(self) -> int:
        """The pid of the traced program (strace's child; unshare -n execs strace)."""
        def child() -> int | None:
            path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
            pids = path.read_text().split() if path.exists() else []
            return int(pids[0]) if pids else None

        return wait_for(child, timeout=10, what="the traced process")

    def signal(self, sig: int = signal.SIGINT) -> None:
        """Send ``sig`` to the traced program (strace then exits with it)."""
        if self.proc.poll() is None:
            os.kill(self.traced_pid(), sig)

    def wait(self, timeout: float = 60) -> int:
        """Wait for the end; its exit status."""
        return self.proc.wait(timeout=timeout)


@contextmanager
def traced_process(argv: list[str], tmp: Path, env: dict[str, str], *, name: str,
                   stdin: IO[Any] | None = None, loopback: bool = False
                   ) -> Iterator[TracedProcess]:
    """Start ``argv`` traced; on exit it is ended (SIGTERM, then SIGKILL) if still running.

    ``loopback``: bring up the namespace's loopback first (for ``serve``).
    """
    trace = tmp / f"{name}.trace"
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(traced_argv(argv, trace, loopback=loopback), env=env,
                                stdout=out, stderr=out,
                                stdin=stdin or subprocess.DEVNULL, start_new_session=True)
    running = TracedProcess(proc, trace, log, env)
    try:
        yield running
    finally:
        if proc.poll() is None:
            try:
                running.signal(signal.SIGTERM)
                proc.wait(timeout=15)
            except (subprocess.TimeoutExpired, AssertionError, ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # strace and the traced program
                proc.wait(timeout=15)
