"""Run a check command in the scratch copy: no network, the repository's environment,
a deadline that kills the whole process group.

The command runs in a fresh network namespace when the system allows one (the same
``unshare -n`` the privacy audit uses, with the loopback interface brought up so tests
that serve on 127.0.0.1 still work), in its own session, with stdout and stderr going to
one file (a grandchild that keeps the pipe open cannot hang the check). At the deadline
or on cancel the session's process group is killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from greenpair.core.config import cache_dir
from greenpair.core.egress import namespace_prefix

KILL_GRACE_S = 2.0


@dataclass
class RunResult:
    """A finished (or killed) command.

    Attributes:
        exit_code: Its exit status (negative: killed by that signal).
        output: stdout and stderr, interleaved.
        seconds: Wall-clock time.
        timed_out: It ran past the deadline and was killed.
        cancelled: It was killed because the caller cancelled.
        namespace: It ran in a network namespace.
    """

    exit_code: int
    output: str
    seconds: float
    timed_out: bool = False
    cancelled: bool = False
    namespace: bool = False


def repo_python(repo: Path) -> str:
    """The Python of the repository's own environment, else the one on PATH."""
    for name in (".venv", "venv", "env"):
        for exe in ("bin/python", "Scripts/python.exe"):
            candidate = repo / name / exe
            if candidate.exists():
                return str(candidate)
    venv = os.environ.get("VIRTUAL_ENV")
    if venv and Path(venv, "bin", "python").exists():
        return str(Path(venv, "bin", "python"))
    return shutil.which("python3") or shutil.which("python") or sys.executable


# Where a build would write outside the copy: cargo's shared target folder (the copy's own
# target/ is used instead).
_OUTSIDE_THE_COPY = frozenset({"CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"})


def check_env(root: Path) -> dict[str, str]:
    """The environment of a check in the copy at ``root``: its ``.venv`` and
    ``node_modules/.bin`` first on PATH, the copy's sources first on PYTHONPATH (an
    editable install of the user's tree must not shadow the patched copy), no bytecode
    written, offline package tools, ``CI=true`` (test runners do not watch), no shared
    cargo target folder (a build writes into the copy, never outside it), and Go's build
    cache in Greenpair's cache folder (``_go_env``).

    Colour is left as the user's environment has it: ``NO_COLOR``/``FORCE_COLOR`` set
    here changed what tests of colour handling saw (commander's ``FORCE_COLOR`` tests
    failed in every check); output is not a terminal, and escape codes are stripped
    before it is read."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GREENPAIR_", "PYTEST_", "COV_CORE_"))
           and k not in _OUTSIDE_THE_COPY}
    path = [str(root / "node_modules" / ".bin")]
    for name in (".venv", "venv", "env"):
        if (root / name / "bin").is_dir():
            path.insert(0, str(root / name / "bin"))
            env["VIRTUAL_ENV"] = str((root / name).resolve())
            break
    env["PATH"] = os.pathsep.join([*path, env.get("PATH", os.defpath)])
    py_path = [str(root / "src")] if (root / "src").is_dir() else []
    py_path.append(str(root))
    env["PYTHONPATH"] = os.pathsep.join(py_path)
    env.update({"PYTHONDONTWRITEBYTECODE": "1", "CI": "true", "RUST_BACKTRACE": "0",
                "CARGO_NET_OFFLINE": "true", "npm_config_offline": "true"})
    env.update(_go_env())
    return env


def _go_env() -> dict[str, str]:
    """Go offline, on the installed toolchain (never a download), no telemetry, and its
    build cache in Greenpair's own cache folder: the user's cache is not written, and
    only a check's first build of the standard library is slow."""
    return {"GOPROXY": "off", "GOTOOLCHAIN": "local", "GOTELEMETRY": "off",
            "GOCACHE": str(cache_dir() / "go-build")}


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=KILL_GRACE_S)


def wrapped_argv(argv: Sequence[str], *, network: bool) -> tuple[list[str], bool]:
    """``argv`` inside a network namespace (loopback up) when one is available."""
    prefix = None if network else namespace_prefix()
    if prefix is None:
        return list(argv), False
    ip = shutil.which("ip")
    if ip is not None:
        return [*prefix, "sh", "-c", f'{ip} link set lo up 2>/dev/null; exec "$@"', "sh",
                *argv], True
    return [*prefix, *argv], True


def run_command(argv: Sequence[str], cwd: Path, *, timeout: float,
                env: dict[str, str] | None = None, cancel: threading.Event | None = None,
                network: bool = False) -> RunResult:
    """Run ``argv`` in ``cwd`` until it ends, ``timeout`` passes, or ``cancel`` is set.

    Args:
        argv: The command.
        cwd: Where it runs (the scratch copy).
        timeout: Seconds before the whole process group is killed.
        env: Its environment (default: ``check_env(cwd)``).
        cancel: Set from another thread to stop it (checked twice a second).
        network: Let it reach the network (no namespace); only for tests of this module.
    """
    full, isolated = wrapped_argv(argv, network=network)
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.Popen(full, cwd=cwd, env=env or check_env(cwd),
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            return RunResult(127, f"Could not start {argv[0]}: {exc}", 0.0, namespace=isolated)
        timed_out = cancelled = False
        deadline = started + max(0.0, timeout)
        while True:
            left = deadline - time.monotonic()
            try:
                proc.wait(timeout=max(0.0, min(left, 0.5) if cancel is not None else left))
                break
            except subprocess.TimeoutExpired:
                if cancel is not None and cancel.is_set():
                    cancelled = True
                elif time.monotonic() < deadline:
                    continue
                else:
                    timed_out = True
                _kill_group(proc)
                break
        _kill_group(proc)  # children it left behind
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return RunResult(proc.returncode if proc.returncode is not None else -9, text,
                     time.monotonic() - started, timed_out, cancelled, isolated)
