"""TEST-ONLY: planted leaks, the negative control of the egress tests and the audit.

The app never sets ``GREENPAIR_TEST_LEAK``, and a packaged (frozen) build ignores it. When
a test sets it, ``greenpair`` (any command but ``audit``, which passes it on to the
commands it traces) does what it names at start-up, then carries on as usual, so the
test can show that the tracer catches a real Greenpair process that tries to leave:

* ``connect``: a TCP connect to 192.0.2.1:443 (TEST-NET-1, never routed);
* ``resolver``: a DNS query sent (``sendto``) to the first ``nameserver`` of
  ``/etc/resolv.conf`` (192.0.2.53 when there is none);
* ``unix=PATH``: a host lookup through a resolver over a Unix socket at PATH (nscd's
  protocol, as glibc speaks it);
* ``crash``: exit at start-up with status 70, before any work.

Items are separated by commas: ``GREENPAIR_TEST_LEAK=connect,resolver``.
"""

from __future__ import annotations

import socket
import struct
import sys
from pathlib import Path

ENV = "GREENPAIR_TEST_LEAK"
HOST = "greenpair-leak.invalid"
CRASH_STATUS = 70


def _nameserver() -> str:
    try:
        for line in Path("/etc/resolv.conf").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 2 and fields[0] == "nameserver":
                return fields[1]
    except OSError:
        pass
    return "192.0.2.53"


def _dns_query(name: str) -> bytes:
    header = struct.pack(">HHHHHH", 0x6770, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split("."))
    return header + labels + b"\0" + struct.pack(">HH", 1, 1)


def _quietly(family: int, kind: int, action: object) -> None:
    sock = socket.socket(family, kind)
    sock.settimeout(2.0)
    try:
        action(sock)  # type: ignore[operator]
    except OSError:
        pass  # refused, unreachable or timed out: the attempt is what the test looks for
    finally:
        sock.close()


def plant(spec: str, args: list[str]) -> None:
    """Make the leaks ``spec`` names (see the module docstring); nothing for ``audit``."""
    if getattr(sys, "frozen", False) or (args[:1] == ["audit"]):
        return
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, value = item.partition("=")
        if name == "crash":
            sys.stderr.write(f"Error: {ENV}=crash: exiting at start-up (a test-only switch)\n")
            raise SystemExit(CRASH_STATUS)
        if name == "connect":
            _quietly(socket.AF_INET, socket.SOCK_STREAM,
                     lambda s: s.connect(("192.0.2.1", 443)))
        elif name == "resolver":
            server = _nameserver()
            family = socket.AF_INET6 if ":" in server else socket.AF_INET
            _quietly(family, socket.SOCK_DGRAM,
                     lambda s, where=server: s.sendto(_dns_query(HOST), (where, 53)))
        elif name == "unix" and value:
            key = HOST.encode() + b"\0"
            request = struct.pack("<iii", 2, 14, len(key)) + key  # nscd GETAI
            _quietly(socket.AF_UNIX, socket.SOCK_STREAM,
                     lambda s, path=value, sent=request: (s.connect(path), s.sendall(sent),
                                                             s.recv(64)))
