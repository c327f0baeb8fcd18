"""Make every non-loopback network connection fail: a fast aid for unit tests.

It patches Python's ``socket`` only, so native code (ONNX Runtime's telemetry client),
subprocesses and the C resolver are invisible to it. The proof that nothing leaves is at
the system-call level: ``tests/integration/test_egress_*.py`` and ``greenpair audit``
(``greenpair.core.egress``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from greenpair.core.privacy import is_loopback_host


class EgressBlocked(OSError):
    """Raised instead of connecting to a non-loopback address."""


def _allowed(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode()
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return is_loopback_host(host)


@contextmanager
def block_egress() -> Iterator[list[Any]]:
    """Within the block, connect()/sendto() to non-loopback addresses raise.

    Yields the list of attempted non-loopback destinations, so a test can assert that
    nothing even tried.
    """
    attempts: list[Any] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        if not _allowed(address):
            attempts.append(address)
            raise EgressBlocked(f"egress blocked: {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if not _allowed(address):
            attempts.append(address)
            raise EgressBlocked(f"egress blocked: {address!r}")
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> Any:
        address = args[-1]
        if not _allowed(address):
            attempts.append(address)
            raise EgressBlocked(f"egress blocked: {address!r}")
        return real_sendto(self, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not is_loopback_host(str(name)):
            try:
                ipaddress.ip_address(str(name))
            except ValueError:
                attempts.append(name)
                raise socket.gaierror(socket.EAI_NONAME, f"egress blocked: {name}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[assignment]
    socket.getaddrinfo = getaddrinfo
    try:
        yield attempts
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.socket.sendto = real_sendto  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo
