"""Egress seen at the system-call level: trace a command and list what tried to leave.

A Python-level socket guard cannot see native code (ONNX Runtime's telemetry client),
subprocesses or the C resolver. This module runs a command under
``strace -f -e trace=connect,sendto,sendmsg,sendmmsg,io_uring_setup`` (every thread and
child), inside a fresh network namespace when the system allows one (``unshare -n``: no
interface but a downed loopback), and reads the trace back as :class:`Attempt` records,
each of one kind:

* ``network``: beyond the machine: any address but loopback (127.0.0.0/8, ``::1``,
  ``::ffff:127.x``), any DNS traffic (port 53, even to a loopback stub), any exotic family;
* ``lookup``: through a local daemon over a Unix socket (nscd, systemd-resolved, the
  system D-Bus, a proxy, a listener with network access: :mod:`greenpair.core.egress_local`);
* ``undecoded``: a destination strace could not decode (a bare pointer, an unknown
  family, an internet address without its address): not silence, an attempt;
* ``io_uring``: the process set up io_uring, whose connects and sends strace cannot see
  (a blind spot: no verdict can be clean);
* ``local``: every other Unix, netlink or ``AF_UNSPEC`` destination, and loopback:
  recorded in the report, not an attempt.
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
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path

from greenpair.core.egress_local import (
    RESOLVER_PATHS,
    is_user_lookup,
    known_route,
    network_peer,
    payload_lookup,
    reached,
    unescape,
)
from greenpair.core.errors import Cancelled, PrivacyError

TRACED_SYSCALLS = ("connect", "sendto", "sendmsg", "sendmmsg", "io_uring_setup")
STEP_TIMEOUT_S = 900
STOP_GRACE_S = 15  # after SIGINT, seconds before a command that ignores it gets SIGTERM
SIGINT_WAIT_S = 10  # how long past stop_after_s to wait for the command to catch SIGINT
LOCAL_FAMILIES = frozenset({"AF_UNIX", "AF_LOCAL", "AF_NETLINK", "AF_UNSPEC"})
DNS_PORT = 53

# "1234  connect(..." or, with --decode-pids=comm, "1234<python3> connect(..."
_LINE = re.compile(
    r"^(?:(?:\[pid\s+)?(?P<pid>\d+)(?:<(?P<comm>[^>]*)>)?\]?\s+)?"
    r"(?P<syscall>connect|sendto|sendmsg|sendmmsg|io_uring_setup)\((?P<args>.*)$"
)
# A quoted C string as strace prints it (escapes inside).
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
# The quoted strings that are addresses, not payload, end with one of these.
_ADDRESS_PREFIXES = ("inet_addr(", "AF_INET6, ", "sun_path=", "sun_path=@")
_SOCKADDR = re.compile(r"\{sa_family=(?P<family>[^,}]+?)(?P<body>(?:,[^{}]*)?)\}")
# A destination strace printed as a bare pointer (it could not read the address).
_MSG_NAME_POINTER = re.compile(r"msg_name=(?P<ptr>0x[0-9a-f]+|[^{N][^,}]*)")
_RETURNED = re.compile(r"\)\s+=\s+(?!.*\)\s+=\s)(.*)$")
KINDS_COUNTED = frozenset({"network", "lookup", "undecoded"})
_PORT = re.compile(r"sin6?_port=htons\((?P<port>\d+)\)")
_INET4 = re.compile(r'inet_addr\("(?P<addr>[^"]*)"\)')
_INET6 = re.compile(r'inet_pton\(AF_INET6, "(?P<addr>[^"]*)"')


@dataclass(frozen=True)
class Attempt:
    """One traced connect or send with a destination (or an ``io_uring_setup``).

    Attributes:
        pid: The thread or process id that made the call (as strace reports it).
        command: Its command name (``comm``), when the trace has it.
        syscall: ``connect``, ``sendto``, ``sendmsg``, ``sendmmsg`` or ``io_uring_setup``.
        family: The socket address family (``AF_INET``, ``AF_INET6``, ``AF_UNIX``...).
        address: The destination address (IP text, socket path, or "").
        port: The destination port (0 when the family has none).
        result: What the call returned (``0``, ``-1 ENETUNREACH (...)``), or "" when the
            trace was cut before it returned.
        kind: ``network``, ``lookup``, ``undecoded``, ``io_uring`` or ``local`` (see the
            module's docstring); "" lets the record judge itself by its address.
        reason: Why a ``lookup`` or ``undecoded`` record is one (for the report).
    """

    pid: int
    command: str
    syscall: str
    family: str
    address: str
    port: int
    result: str = ""
    kind: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", _kind_by_address(self))

    @property
    def is_egress(self) -> bool:
        """Whether this call is an attempt to leave (network, a lookup, or undecoded)."""
        return self.kind in KINDS_COUNTED

    def to_json(self) -> dict[str, object]:
        """The record for ``greenpair audit --json``."""
        return asdict(self)

    def describe(self) -> str:
        """One line for people: who tried to reach what, and how it ended."""
        if self.kind == "io_uring":
            where = "(its connects and sends are invisible to strace)"
        elif self.family in {"AF_UNIX", "AF_LOCAL"}:
            where = self.address or "(unnamed)"
        elif ":" in self.address:
            where = f"[{self.address}]:{self.port}"
        else:
            where = f"{self.address or '?'}:{self.port}"
        what = " (DNS)" if self.port == DNS_PORT and self.family.startswith("AF_INET") else ""
        why = f" [{self.kind}: {self.reason}]" if self.reason else \
            (f" [{self.kind}]" if self.kind != "network" else "")
        ended = f" -> {self.result}" if self.result else ""
        return f"pid {self.pid} ({self.command or '?'}) {self.syscall} {self.family} " \
            f"{where}{what}{why}{ended}"


def _kind_by_address(attempt: Attempt) -> str:
    if attempt.syscall == "io_uring_setup":
        return "io_uring"
    if attempt.family in LOCAL_FAMILIES:
        return "local"
    if attempt.family not in {"AF_INET", "AF_INET6"}:
        return "undecoded" if not attempt.family.startswith("AF_") else "network"
    if not attempt.address:
        return "undecoded"
    if attempt.port == DNS_PORT or not is_loopback_address(attempt.address):
        return "network"
    return "local"


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
    found = _RETURNED.search(args)  # strace pads short lines: "connect(4, 0x10, 16)   = -1"
    return found.group(1).strip() if found else ""


@dataclass(frozen=True)
class _Call:
    """One traced call, split into what the classifier needs."""

    pid: int
    command: str
    syscall: str
    fd: int | None
    args: str  # payload strings blanked
    payloads: tuple[bytes, ...]
    result: str


def _top_level(args: str) -> list[str]:
    """The call's arguments split at commas outside braces, brackets and parentheses."""
    parts, depth, last = [], 0, 0
    for i, char in enumerate(args):
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(args[last:i].strip())
            last = i + 1
    parts.append(args[last:].strip())
    return parts


def _split_call(line: str) -> _Call | None:
    match = _LINE.match(line.strip())
    if match is None:
        return None
    raw = match.group("args")
    args = _strip_payload(raw)
    payloads = tuple(
        unescape(m.group(0)[1:-1]) for m in _QUOTED.finditer(raw)
        if not raw[:m.start()].endswith(_ADDRESS_PREFIXES))
    first = _top_level(args)[0]
    return _Call(pid=int(match.group("pid") or 0), command=match.group("comm") or "",
                 syscall=match.group("syscall"), fd=int(first) if first.isdigit() else None,
                 args=args, payloads=payloads, result=_result(args))


def _undecoded_pointer(call: _Call) -> str:
    """The destination argument when strace printed it as a pointer, not an address."""
    if call.syscall in {"connect", "sendto"}:
        position = 1 if call.syscall == "connect" else 4
        parts = _top_level(call.args)
        if len(parts) <= position:
            return ""
        dest = parts[position].split(")")[0].split(" <unfinished")[0].strip()
        return "" if dest in {"", "NULL"} or dest.startswith("{") else dest
    found = _MSG_NAME_POINTER.search(call.args)
    return found.group("ptr") if found else ""


def _destinations(call: _Call) -> list[Attempt]:
    def make(family: str, address: str, port: int, kind: str = "", reason: str = ""
             ) -> Attempt:
        return Attempt(call.pid, call.command, call.syscall, family, address, port,
                       call.result, kind, reason)

    if call.syscall == "io_uring_setup":
        if not reached(call.result):
            return []  # refused (ENOSYS, EPERM): nothing set up
        return [make("", "", 0, "io_uring", "io_uring's own connects and sends are not traced")]
    attempts = []
    for sockaddr in _SOCKADDR.finditer(call.args):
        family, body = sockaddr.group("family").strip(), sockaddr.group("body")
        address, port = "", 0
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
        attempts.append(make(family, address, port))
    pointer = _undecoded_pointer(call)
    if pointer and not attempts:
        attempts.append(make("?", pointer, 0, "undecoded", "strace could not read the address"))
    return attempts


def _judge_unix(attempt: Attempt) -> Attempt:
    """A Unix destination by its path alone (see :mod:`greenpair.core.egress_local`)."""
    if attempt.family not in {"AF_UNIX", "AF_LOCAL"}:
        return attempt
    route = known_route(attempt.address)
    if not route:
        return attempt
    if attempt.syscall == "connect" and not reached(attempt.result):
        return replace(attempt, reason=f"{route}; nothing listening")
    return replace(attempt, kind="lookup", reason=route)


def parse_line(line: str) -> list[Attempt]:
    """The destinations named by one strace output line (none for other lines).

    Lines written with ``-f -o FILE`` start with the pid (``[pid N]`` on stderr), and with
    ``--decode-pids=comm`` the command in angle brackets. A call cut in two by another
    thread (``<unfinished ...>`` then ``<... connect resumed>``) carries its address in the
    first half, which is the one read; the resumed half has none. One line alone cannot
    tell what was sent on a connected socket: :func:`parse_trace` follows the descriptors.
    """
    call = _split_call(line)
    if call is None:
        return []
    attempts = [_judge_unix(a) for a in _destinations(call)]
    why = next(filter(None, map(payload_lookup, call.payloads)), "")
    if why and not any(a.is_egress for a in attempts):
        attempts.append(Attempt(call.pid, call.command, call.syscall, "AF_UNIX",
                                f"fd {call.fd}", 0, call.result, "lookup", why))
    return attempts


def parse_trace(lines: Iterable[str]) -> Iterator[Attempt]:
    """Every destination in a trace, in order (local ones included, marked ``local``).

    Follows each process's Unix-socket descriptors, so that a send on a connected socket
    is read against the path it was connected to: a connect that reached nscd is a lookup
    unless the request sent next on it asks for a user or group (``getpwuid``).
    """
    unix_fds: dict[tuple[int, int], str] = {}
    pending: dict[tuple[int, int], Attempt] = {}  # nscd connects awaiting their request
    for line in lines:
        call = _split_call(line)
        if call is None:
            continue
        key = (call.pid, call.fd if call.fd is not None else -1)
        for attempt in map(_judge_unix, _destinations(call)):
            is_unix = attempt.family in {"AF_UNIX", "AF_LOCAL"}
            if is_unix and attempt.syscall == "connect" and reached(attempt.result):
                unix_fds[key] = attempt.address
                if attempt.address in RESOLVER_PATHS and "nscd" in attempt.address:
                    pending[key] = attempt
                    continue
            yield attempt
        if call.syscall == "connect" or not call.payloads:
            continue
        path = unix_fds.get(key, "")
        held = pending.pop(key, None)
        why = next(filter(None, map(payload_lookup, call.payloads)), "")
        if held is not None:
            user_only = not why and is_user_lookup(call.payloads[0])
            yield replace(held, kind="local", reason="an nscd user/group request") \
                if user_only else replace(held, reason=why or held.reason)
        elif why:
            yield Attempt(call.pid, call.command, call.syscall, "AF_UNIX",
                          path or f"fd {call.fd}", 0, call.result, "lookup", why)
    yield from pending.values()  # connected to nscd, request not seen: assume a lookup


def egress_attempts(lines: Iterable[str]) -> list[Attempt]:
    """The attempts to leave in a trace (empty when clean): see :attr:`Attempt.is_egress`."""
    return [a for a in parse_trace(lines) if a.is_egress]


def read_trace(trace_file: Path) -> list[Attempt]:
    """Every record of a trace file, local ones included.

    Raises:
        PrivacyError: The file was not written (a missing trace is an error, not clean).
    """
    if not trace_file.is_file():
        raise PrivacyError(
            f"The system-call trace {trace_file} was not written, so nothing is proven.",
            hint="Check that strace can trace here (ptrace may be disabled by "
                 "kernel.yama.ptrace_scope or a container's seccomp profile).",
        )
    with trace_file.open(encoding="utf-8", errors="replace") as lines:
        return list(parse_trace(lines))


def read_egress(trace_file: Path) -> list[Attempt]:
    """The attempts to leave in a trace file (see :func:`read_trace`)."""
    return [a for a in read_trace(trace_file) if a.is_egress]


def judge_peers(records: list[Attempt]) -> list[Attempt]:
    """``records`` with each reached Unix socket whose listener has network access (it
    holds internet sockets, seen in ``/proc`` now) turned into a ``lookup``."""
    judged = []
    for record in records:
        if record.kind == "local" and record.family in {"AF_UNIX", "AF_LOCAL"} and \
                record.syscall == "connect" and reached(record.result) and record.address:
            peer = network_peer(record.address)
            if peer is not None:
                record = replace(record, kind="lookup", reason=(
                    f"its listener, pid {peer.pid} ({peer.command}), holds "
                    f"{peer.internet_sockets} internet socket(s)"))
        judged.append(record)
    return judged


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
    """A finished traced command.

    Attributes:
        exit_code: Its exit status.
        stdout: What it printed.
        stderr: Its errors.
        records: Every destination and io_uring setup in its trace (local ones too),
            Unix sockets judged against their listeners right after it ended.
    """

    exit_code: int
    stdout: str
    stderr: str
    records: list[Attempt] = field(default_factory=list)

    @property
    def attempts(self) -> list[Attempt]:
        """The attempts to leave (network, lookup, undecoded)."""
        return [r for r in self.records if r.is_egress]

    @property
    def blind_spots(self) -> list[Attempt]:
        """io_uring set-ups: traffic strace cannot see."""
        return [r for r in self.records if r.kind == "io_uring"]


def catches_sigint(pid: int) -> bool:
    """Whether process ``pid`` has a handler for SIGINT (``SigCgt`` in /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGINT - 1) & 1)
    return False


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
                # Not before the command catches Ctrl+C: a SIGINT sent while it is still
                # starting (strace's fork, Python's start-up) is lost on a loaded machine.
                late = time.monotonic() - started >= stop_after_s + SIGINT_WAIT_S
                if child is not None and (catches_sigint(child) or late):
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
    return TracedRun(proc.returncode, out, err, judge_peers(read_trace(trace_file)))
