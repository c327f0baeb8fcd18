"""One Greenpair per user and data directory, reachable over a local socket.

The running instance listens on a ``QLocalServer`` (a Unix socket, a named pipe on
Windows). Other processes — ``greenpair suggest`` bound to a desktop shortcut on Wayland,
a second ``greenpair gui`` — send it one JSON object per line and read one JSON reply.

Messages (the ``cmd`` key):

* ``{"cmd": "suggest", "mode": "auto"}``: open the popup on the current selection.
* ``{"cmd": "show"}``: show the main window.
* ``{"cmd": "ping"}``: answered with the instance's process id.

The server name is derived from the user and the data directory, so tests with their own
``GREENPAIR_HOME`` never reach the developer's instance.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
from typing import Any

from PySide6.QtCore import QByteArray, QCoreApplication, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from greenpair.core.config import data_dir

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024


def server_name() -> str:
    """The socket name of this user's instance for the current data directory."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    key = f"{user}\0{data_dir().resolve()}".encode()
    return "greenpair-" + hashlib.sha1(key).hexdigest()[:16]


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n"


def _decode(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def send_to_running(
    message: dict[str, Any], *, timeout_ms: int = 3000, name: str | None = None
) -> dict[str, Any] | None:
    """Send ``message`` to the running instance and return its reply.

    Blocking, for another process (the CLI, or a second instance before its event loop
    starts): PySide holds the GIL while it waits, so a server in the same process could
    not answer. A ``QCoreApplication`` is created when none exists.

    Args:
        message: A JSON-ready dictionary with a ``cmd`` key.
        timeout_ms: How long to wait for the connection and for the reply, each.
        name: The server name (default: ``server_name()``).

    Returns:
        The reply, or None when no instance is running (or it did not answer in time).
    """
    if QCoreApplication.instance() is None:
        QCoreApplication([])
    sock = QLocalSocket()
    sock.connectToServer(name or server_name())
    if not sock.waitForConnected(timeout_ms):
        return None
    try:
        sock.write(QByteArray(_encode(message)))
        if not sock.waitForBytesWritten(timeout_ms):
            return None
        buffer = b""
        while b"\n" not in buffer:
            if not sock.waitForReadyRead(timeout_ms):
                return None
            buffer += bytes(sock.readAll().data())
        return _decode(buffer.split(b"\n", 1)[0])
    finally:
        sock.disconnectFromServer()


class SingleInstanceServer(QObject):
    """Listens for messages from other Greenpair processes.

    Each request is answered by ``handler(message) -> reply`` in the GUI thread; the
    default reply is ``{"ok": true}`` and ``message_received`` is emitted for every valid
    message.

    Signals:
        message_received(dict): A valid message arrived.

    Args:
        name: The server name (default: ``server_name()``).
        parent: The Qt parent.
    """

    message_received = Signal(dict)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_new_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Start listening.

        A live instance (one that answers a ping) keeps its socket; one left behind by a
        crashed instance is removed. The ping comes first because with access options Qt
        creates the socket elsewhere and renames it over an existing one, live or not.

        Returns:
            False when another instance is running (this one should forward and exit).
        """
        if self._server.isListening():
            return True
        if send_to_running({"cmd": "ping"}, timeout_ms=1000, name=self.name) is not None:
            return False
        QLocalServer.removeServer(self.name)  # a stale socket, if any
        if not self._server.listen(self.name):
            log.warning("cannot listen on %s: %s", self.name, self._server.errorString())
            return False
        return True

    def close(self) -> None:
        """Stop listening and drop open connections."""
        self._server.close()
        sockets = list(self._buffers)
        self._buffers.clear()
        for sock in sockets:
            sock.abort()

    def is_listening(self) -> bool:
        """Whether the server accepts connections."""
        return self._server.isListening()

    def _on_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            self._buffers[sock] = b""
            sock.readyRead.connect(lambda s=sock: self._on_ready_read(s))
            sock.disconnected.connect(lambda s=sock: self._buffers.pop(s, None))
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                self._on_ready_read(sock)

    def _on_ready_read(self, sock: QLocalSocket) -> None:
        data = self._buffers.get(sock, b"") + bytes(sock.readAll().data())
        if len(data) > MAX_MESSAGE_BYTES:
            log.warning("dropping an oversized message on the instance socket")
            sock.abort()
            return
        while b"\n" in data:
            line, data = data.split(b"\n", 1)
            message = _decode(line)
            reply = self._handle(message)
            sock.write(QByteArray(_encode(reply)))
            sock.flush()
        self._buffers[sock] = data

    def _handle(self, message: dict[str, Any] | None) -> dict[str, Any]:
        if message is None or not isinstance(message.get("cmd"), str):
            return {"ok": False, "error": "expected a JSON object with a 'cmd' key"}
        if message["cmd"] == "ping":
            return {"ok": True, "pid": os.getpid()}
        self.message_received.emit(message)
        return {"ok": True}
