"""Unix-socket destinations in a trace: which ones are a way out of the machine.

A network namespace (``unshare -n``) cuts every interface but not path-based Unix sockets,
and a name lookup need not use port 53 from the traced process: glibc asks nscd over
``/var/run/nscd/socket``, nss-resolve asks systemd-resolved over its varlink socket (or
over the system D-Bus), and a local proxy forwards whatever it is sent. That daemon then
sends the DNS query or the connection from outside the namespace. So every Unix-socket
destination is recorded, and these are attempts (a lookup by any route is an attempt):

* a connect that reached a known resolver or proxy socket (:data:`RESOLVER_PATHS`,
  :data:`PROXY_MARKERS`), or the system D-Bus (it reaches ``org.freedesktop.resolve1``;
  ``write`` is not traced, so its messages cannot be read to rule that out);
* a send whose bytes are an nscd host request (on any socket, so a resolver at another
  path is caught too) or that name ``resolve1``;
* a connect to a socket whose listening process holds internet sockets (it has network
  access: :func:`network_peer`), checked on the live system right after the step.

A connect to one of those paths that failed (``ENOENT``, ``ECONNREFUSED``: nothing
listens) reached nobody: glibc then falls back to its other sources, whose DNS traffic is
traced like any other. An nscd request for a user or group (``getpwuid``) is not a lookup.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

RESOLVER_PATHS = frozenset({
    "/var/run/nscd/socket", "/run/nscd/socket",  # glibc's name service cache daemon
    "/run/systemd/resolve/io.systemd.Resolve",  # systemd-resolved's varlink (nss-resolve)
    "/run/systemd/resolve/io.systemd.Resolve.Monitor",
    "/run/systemd/resolve/io.systemd.Resolve.Hook",
})
SYSTEM_BUS_PATHS = frozenset({"/run/dbus/system_bus_socket",
                              "/var/run/dbus/system_bus_socket"})
# Path fragments of sockets that forward traffic: Tor, SOCKS and HTTP proxies, DNS daemons.
PROXY_MARKERS = ("/tor/", "socks", "proxy", "dnsmasq", "unbound", "resolve")

# nscd's request header is (int32 version = 2, int32 type, int32 key_len), then the key.
NSCD_VERSION = 2
# GETHOSTBYNAME, GETHOSTBYNAMEv6, GETHOSTBYADDR, GETHOSTBYADDRv6, GETFDHST, GETAI,
# GETSERVBYNAME, GETSERVBYPORT, GETFDSERV, GETNETGRENT, INNETGR, GETFDNETGR
NSCD_HOST_TYPES = frozenset({4, 5, 6, 7, 13, 14, 16, 17, 18, 19, 20, 21})
_ESCAPE = re.compile(r'\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)')
_NAMED = {"n": 10, "t": 9, "r": 13, "f": 12, "v": 11, "a": 7, "b": 8, "e": 27}


def unescape(text: str) -> bytes:
    """The bytes of a C string as strace prints it (without its quotes)."""
    out = bytearray()
    last = 0
    for match in _ESCAPE.finditer(text):
        out += text[last:match.start()].encode("latin-1", "replace")
        code = match.group(1)
        if code[0] == "x" and len(code) == 3:
            out.append(int(code[1:], 16))
        elif code[0] in "01234567":
            out.append(int(code, 8) & 0xFF)
        else:
            out.append(_NAMED.get(code, ord(code[0]) & 0xFF))
        last = match.end()
    out += text[last:].encode("latin-1", "replace")
    return bytes(out)


def nscd_request(payload: bytes) -> tuple[int, str] | None:
    """``(type, key)`` when ``payload`` is an nscd request, else None."""
    if len(payload) < 12:
        return None
    version, kind, key_len = (int.from_bytes(payload[i:i + 4], "little") for i in (0, 4, 8))
    if version != NSCD_VERSION or kind > 64 or key_len > 1024:
        return None
    key = payload[12:12 + key_len].rstrip(b"\0").decode("utf-8", "replace")
    return kind, key


def payload_lookup(payload: bytes) -> str:
    """Why a send's bytes are a name lookup ("" when they are not)."""
    request = nscd_request(payload)
    if request is not None and request[0] in NSCD_HOST_TYPES:
        return f"an nscd host request ({request[1] or 'no key'!r})"
    if b"resolve1" in payload:
        return "a D-Bus message to org.freedesktop.resolve1"
    return ""


def is_user_lookup(payload: bytes) -> bool:
    """An nscd request for a user, a group or groups (not a host name)."""
    request = nscd_request(payload)
    return request is not None and request[0] not in NSCD_HOST_TYPES


def known_route(path: str) -> str:
    """Why a Unix socket path is a resolver or proxy ("" for an ordinary one)."""
    if path in RESOLVER_PATHS:
        return "a name resolver's socket"
    if path in SYSTEM_BUS_PATHS:
        return "the system D-Bus (it reaches systemd-resolved)"
    lowered = path.lower()
    if any(marker in lowered for marker in PROXY_MARKERS):
        return "a resolver or proxy socket (by its name)"
    return ""


def reached(result: str) -> bool:
    """Whether a connect reached a listener (a call cut off by the trace counts as yes)."""
    return not result.startswith("-1")


@dataclass(frozen=True)
class Peer:
    """The process listening on a Unix socket."""

    pid: int
    command: str
    internet_sockets: int


def _listening_inodes(path: str, net_unix: Path) -> set[str]:
    inodes: set[str] = set()
    try:
        lines = net_unix.read_text(errors="replace").splitlines()[1:]
    except OSError:
        return inodes
    for line in lines:
        fields = line.split()
        if len(fields) >= 8 and fields[-1] == path:
            inodes.add(fields[6])
    return inodes


def _socket_inodes(pid: str, proc: Path) -> set[str]:
    found: set[str] = set()
    try:
        for fd in (proc / pid / "fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                found.add(target[8:-1])
    except OSError:
        pass
    return found


def _internet_inodes(pid: str, proc: Path) -> set[str]:
    """Inodes of this process's namespace's TCP/UDP sockets not bound to loopback."""
    found: set[str] = set()
    for table in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = (proc / pid / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local = fields[1].split(":")[0]
            if local in {"0100007F", "00000000000000000000000001000000"}:
                continue  # 127.0.0.1 / ::1 only
            found.add(fields[9])
    return found


def _outside_interfaces(pid: str, proc: Path) -> bool:
    """Whether the process's network namespace has an interface besides loopback."""
    try:
        lines = (proc / pid / "net" / "dev").read_text().splitlines()[2:]
    except OSError:
        return True  # cannot tell: assume it has
    return any(line.split(":")[0].strip() != "lo" for line in lines if ":" in line)


def network_peer(path: str, proc: Path = Path("/proc")) -> Peer | None:
    """The listener on ``path`` when it has network access, else None.

    Network access: it holds TCP or UDP sockets not bound to loopback, in a network
    namespace with an interface besides loopback (a listener inside a fresh namespace, as
    Greenpair's own single-instance socket is in the egress tests, has none). Reads
    ``/proc`` (other users' processes need root, as the audit in CI has); a listener that
    cannot be found is not judged.
    """
    wanted = _listening_inodes(path, proc / "net" / "unix")
    if not wanted:
        return None
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        sockets = _socket_inodes(entry.name, proc)
        if not sockets & wanted:
            continue
        internet = sockets & _internet_inodes(entry.name, proc)
        if not internet or not _outside_interfaces(entry.name, proc):
            return None
        try:
            command = (entry / "comm").read_text().strip()
        except OSError:
            command = "?"
        return Peer(int(entry.name), command, len(internet))
    return None
