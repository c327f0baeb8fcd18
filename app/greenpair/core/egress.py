"""Egress seen at the system-call level: trace a command and list what tried to leave.

A Python-level socket guard cannot see native code (ONNX Runtime's telemetry client),
subprocesses or the C resolver. This module runs a command under
``strace -f -e trace=connect,sendto,sendmsg,sendmmsg`` (every thread and child), inside
a fresh network namespace when the system allows one (``unshare -n``: no interface but
a downed loopback, so nothing can leave even if something tries), and reads the trace
back as :class:`Attempt` records.

Allowed: ``AF_UNIX`` and ``AF_NETLINK`` (local IPC), ``AF_UNSPEC`` (a disconnect), and
loopback addresses (127.0.0.0/8, ``::1``, ``::ffff:127.x``). Everything else is an
attempt, and so is any DNS traffic (port 53), even to a loopback resolver stub.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from greenpair.core.errors import Cancelled, PrivacyError

TRACED_SYSCALLS = ("connect", "sendto", "sendmsg", "sendmmsg")
STEP_TIMEOUT_S = 900
STOP_GRACE_S = 15  # after SIGINT, seconds before a command that ignores it gets SIGTERM
LOCAL_FAMILIES = frozenset({"AF_UNIX", "AF_LOCAL", "AF_NETLINK", "AF_UNSPEC"})
DNS_PORT = 53

# "1234  connect(..." or, with --decode-pids=comm, "1234<python3> connect(..."
_LINE = re.compile(
    r"^(?:(?:\[pid\s+)?(?P<pid>\d+)(?:<(?P<comm>[^>]*)>)?\]?\s+)?"
    r"(?P<syscall>connect|sendto|sendmsg|sendmmsg)\((?P<args>.*)$"
)
# A quoted C string as strace prints it (escapes inside).
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
# The quoted strings that are addresses, not payload, end with one of these.
_ADDRESS_PREFIXES = ("inet_addr(", "AF_INET6, ", "sun_path=", "sun_path=@")
_SOCKADDR = re.compile(r"\{sa_family=(?P<family>AF_\w+)(?P<body>[^{}]*)\}")
_PORT = re.compile(r"sin6?_port=htons\((?P<port>\d+)\)")
_INET4 = re.compile(r'inet_addr\("(?P<addr>[^"]*)"\)')
_INET6 = re.compile(r'inet_pton\(AF_INET6, "(?P<addr>[^"]*)"')


@dataclass(frozen=True)
class Attempt:
    """One traced connect or send with a destination.

    Attributes:
        pid: The thread or process id that made the call (as strace reports it).
        command: Its command name (``comm``), when the trace has it.
        syscall: ``connect``, ``sendto``, ``sendmsg`` or ``sendmmsg``.
        family: The socket address family (``AF_INET``, ``AF_INET6``, ``AF_UNIX``...).
        address: The destination address (IP text, socket path, or "").
        port: The destination port (0 when the family has none).
        result: What the call returned (``0``, ``-1 ENETUNREACH (...)``), or "" when the
            trace was cut before it returned.
    """

    pid: int
    command: str
    syscall: str
    family: str
    address: str
    port: int
    result: str = ""

    @property
    def is_egress(self) -> bool:
        """Whether this call tried to reach beyond the machine (DNS always counts)."""
        if self.family in LOCAL_FAMILIES:
            return False
        if self.family not in {"AF_INET", "AF_INET6"}:
            return True  # a raw or exotic family: not ours to allow
        if self.port == DNS_PORT:
            return True
        return not is_loopback_address(self.address)

    def to_json(self) -> dict[str, object]:
        """The record for ``greenpair audit --json``."""
        return asdict(self)

    def describe(self) -> str:
        """One line for people: who tried to reach what, and how it ended."""
        where = f"[{self.address}]:{self.port}" if ":" in self.address else \
            f"{self.address}:{self.port}"
        what = " (DNS)" if self.port == DNS_PORT else ""
        ended = f" -> {self.result}" if self.result else ""
        return f"pid {self.pid} ({self.command or '?'}) {self.syscall} {self.family} " \
            f"{where}{what}{ended}"


def is_loopback_address(text: str) -> bool:
    """True for 127.0.0.0/8, ``::1`` and IPv4-mapped loopback (``::ffff:127.0.0.1``)."""
    import ipaddress

    try:
        address = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _strip_payload(args: str) -> str:
    """Blank the data strings (they may hold any text, even "sa_family=")."""
    out: list[str] = []
    last = 0
    for match in _QUOTED.finditer(args):
        before = args[last:match.start()]
        out.append(before)
        keep = args[:match.start()].endswith(_ADDRESS_PREFIXES)
        out.append(match.group(0) if keep else '""')
        last = match.end()
    out.append(args[last:])
    return "".join(out)


def _result(args: str) -> str:
    if args.rstrip().endswith("<unfinished ...>"):
        return ""
    _head, sep, tail = args.rpartition(") = ")
    return tail.strip() if sep else ""


def parse_line(line: str) -> list[Attempt]:
    """The destinations named by one strace output line (none for other lines).

    Lines written with ``-f -o FILE`` start with the pid (``[pid N]`` on stderr), and with
    ``--decode-pids=comm`` the command in angle brackets. A call cut in two by another
    thread (``<unfinished ...>`` then ``<... connect resumed>``) carries its address in the
    first half, which is the one read; the resumed half has none.
    """
    match = _LINE.match(line.strip())
    if match is None:
        return []
    args = _strip_payload(match.group("args"))
    result = _result(args)
    attempts = []
    for sockaddr in _SOCKADDR.finditer(args):
        family, body = sockaddr.group("family"), sockaddr.group("body")
        address = ""
        port = 0
        if family == "AF_INET":
            found = _INET4.search(body)
            address = found.group("addr") if found else ""
        elif family == "AF_INET6":
            found = _INET6.search(body)
            address = found.group("addr") if found else ""
        elif family in {"AF_UNIX", "AF_LOCAL"}:
            path = re.search(r'sun_path=(@?"(?:[^"\\]|\\.)*")', body)
            address = path.group(1).replace('"', "") if path else ""
        port_match = _PORT.search(body)
        if port_match:
            port = int(port_match.group("port"))
        attempts.append(Attempt(
            pid=int(match.group("pid") or 0), command=match.group("comm") or "",
            syscall=match.group("syscall"), family=family, address=address, port=port,
            result=result,
        ))
    return attempts


def parse_trace(lines: Iterable[str]) -> Iterator[Attempt]:
    """Every destination in a trace, in order (local ones included)."""
    for line in lines:
        yield from parse_line(line)


def egress_attempts(lines: Iterable[str]) -> list[Attempt]:
    """The attempts to reach beyond the machine in a trace (empty when clean)."""
    return [a for a in parse_trace(lines) if a.is_egress]


def read_egress(trace_file: Path) -> list[Attempt]:
    """:func:`egress_attempts` of a trace file (a missing file is an error, not clean)."""
    if not trace_file.is_file():
        raise PrivacyError(
            f"The system-call trace {trace_file} was not written, so nothing is proven.",
            hint="Check that strace can trace here (ptrace may be disabled by "
                 "kernel.yama.ptrace_scope or a container's seccomp profile).",
        )
    with trace_file.open(encoding="utf-8", errors="replace") as lines:
        return egress_attempts(lines)


@cache
def _strace_supports_comm(strace: str) -> bool:
    done = subprocess.run([strace, "--decode-pids=comm", "-e", "trace=none", "true"],
                          capture_output=True, check=False, timeout=30)
    return done.returncode == 0


@cache
def namespace_prefix() -> tuple[str, ...] | None:
    """The ``unshare`` command that gives a fresh network namespace here, or None.

    ``unshare -n`` needs root (CI runs as root); an ordinary user may get one inside a
    user namespace (``unshare -rn``) when the kernel allows unprivileged ones.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for prefix in ((unshare, "-n"), (unshare, "-r", "-n")):
        try:
            done = subprocess.run([*prefix, "true"], capture_output=True, check=False,
                                  timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return prefix
    return None


def require_strace() -> str:
    """The path of ``strace``.

    Raises:
        PrivacyError: It is not installed, with the command that installs it.
    """
    strace = shutil.which("strace")
    if strace is None:
        raise PrivacyError(
            "The privacy audit needs strace, the system-call tracer, and it is not installed.",
            hint="Install it (Debian/Ubuntu: sudo apt-get install strace; Fedora: sudo dnf "
                 "install strace; Arch: sudo pacman -S strace) and run the audit again.",
        )
    return strace


def traced_argv(argv: list[str], trace_file: Path, *, namespace: bool = True,
                loopback: bool = False) -> list[str]:
    """``argv`` wrapped in the network namespace (when available) and the tracer.

    Args:
        argv: The command to run.
        trace_file: Where strace writes the trace (``-o``).
        namespace: Run it in a fresh network namespace when the system allows one.
        loopback: Bring the namespace's loopback interface up first (``ip link set lo
            up``), for a command that serves on 127.0.0.1; without it, a fresh namespace
            has no working interface at all.

    Raises:
        PrivacyError: strace is missing, or ``loopback`` was asked for without ``ip``.
    """
    strace = require_strace()
    tracer = [strace, "-f", "-qq", "-e", "signal=none", "-s", "64",
              "-e", "trace=" + ",".join(TRACED_SYSCALLS), "-o", str(trace_file)]
    if _strace_supports_comm(strace):
        tracer.insert(1, "--decode-pids=comm")
    prefix = namespace_prefix() if namespace else None
    if prefix is not None and loopback:
        ip = shutil.which("ip")
        if ip is None:
            raise PrivacyError("Bringing up loopback in the network namespace needs `ip`.",
                               hint="Install it (Debian/Ubuntu: apt-get install iproute2).")
        # sh execs the tracer once lo is up, so the tracer keeps the pid Popen sees.
        prefix = (*prefix, "sh", "-c", f'{ip} link set lo up && exec "$@"', "sh")
    return [*(prefix or ()), *tracer, "--", *argv]


@dataclass
class TracedRun:
    """A finished traced command."""

    exit_code: int
    stdout: str
    stderr: str
    attempts: list[Attempt]


def traced_child(tracer_pid: int) -> int | None:
    """The program strace runs (its first child), or None while there is none."""
    path = Path(f"/proc/{tracer_pid}/task/{tracer_pid}/children")
    try:
        pids = path.read_text().split()
    except OSError:
        return None
    return int(pids[0]) if pids else None


def run_traced(argv: list[str], trace_file: Path, env: dict[str, str], *,
               timeout: float = STEP_TIMEOUT_S, namespace: bool = True,
               loopback: bool = False, stdin: str | None = None,
               stop_after_s: float | None = None,
               cancel: threading.Event | None = None) -> TracedRun:
    """Run ``argv`` traced (see :func:`traced_argv`) to its end.

    Args:
        argv: The command.
        trace_file: Where the trace goes.
        env: Its environment.
        timeout: Seconds before it is killed (an error).
        namespace: In a fresh network namespace when the system allows one.
        loopback: Bring that namespace's loopback interface up first.
        stdin: Text for its standard input.
        stop_after_s: For a command that runs until interrupted (``watch``): send it
            SIGINT (Ctrl+C) after this many seconds, and SIGTERM if it still runs
            ``STOP_GRACE_S`` later.
        cancel: Set from another thread to kill it (checked twice a second).

    Raises:
        PrivacyError: strace is missing, the command ran past ``timeout``, or no trace
            was written.
        Cancelled: ``cancel`` was set.
    """
    traced = traced_argv(argv, trace_file, namespace=namespace, loopback=loopback)
    proc = subprocess.Popen(traced, env=env, text=True, start_new_session=True,
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = time.monotonic()
    deadline = started + timeout
    tick = cancel is not None or stop_after_s is not None
    interrupted: tuple[int, float] | None = None  # (pid, when) SIGINT was sent
    while True:
        left = deadline - time.monotonic()
        try:
            out, err = proc.communicate(stdin, timeout=min(left, 0.5) if tick else left)
            break
        except subprocess.TimeoutExpired:
            stdin = None  # communicate() keeps what it was given the first time
            if stop_after_s is not None and time.monotonic() - started >= stop_after_s:
                child = traced_child(proc.pid)
                if child is not None:
                    os.kill(child, signal.SIGINT)
                    stop_after_s, interrupted = None, (child, time.monotonic())
            elif interrupted is not None and time.monotonic() - interrupted[1] >= STOP_GRACE_S:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(interrupted[0], signal.SIGTERM)  # it ignored Ctrl+C
                interrupted = None
            stopped = cancel is not None and cancel.is_set()
            if not stopped and time.monotonic() < deadline:
                continue
            os.killpg(proc.pid, signal.SIGKILL)  # strace and everything it traces
            proc.communicate()
            if stopped:
                raise Cancelled("The privacy audit was cancelled.") from None
            raise PrivacyError(f"`{' '.join(argv)}` ran past {timeout:.0f} s while traced."
                               ) from None
    return TracedRun(proc.returncode, out, err, read_egress(trace_file))
