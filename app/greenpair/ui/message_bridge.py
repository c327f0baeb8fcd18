"""Core messages (``greenpair.core.messages``) and worker errors, delivered to Qt views.

Core reports information and warnings through a Qt-free sink, from any thread. The
bridge turns each one into a Qt signal (queued to the GUI thread) and keeps what arrives
before a view is listening, then hands it over when the view connects (as qutebrowser's
``GlobalMessageBridge.flush`` does).
"""

from __future__ import annotations

import errno
import logging
import threading
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from greenpair.core import messages
from greenpair.core.errors import GreenpairError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserMessage:
    """One message for the user.

    Attributes:
        level: ``info``, ``warning`` or ``error``.
        text: What happened, in plain words.
        hint: How to fix it (may be empty).
    """

    level: str
    text: str
    hint: str = ""

    def full_text(self) -> str:
        """The text followed by the hint, when there is one."""
        return f"{self.text}\n{self.hint}" if self.hint else self.text


def describe_error(exc: BaseException) -> UserMessage | None:
    """Turn an exception into a message for the user, or None when it is a bug.

    ``GreenpairError`` carries its own text and hint. A few operating-system failures
    that are the user's to fix (a full disk, a missing file, a permission) are translated
    here, at the UI boundary. Anything else is unexpected: the caller logs it and shows
    the crash dialog.

    Args:
        exc: The exception raised by core work.

    Returns:
        The message, or None for an unexpected exception.
    """
    if isinstance(exc, GreenpairError):
        return UserMessage("error", exc.message, exc.hint or "")
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        if exc.errno == errno.ENOSPC:
            return UserMessage(
                "error",
                f"The disk is full{where}.",
                "Free some disk space, then try again. Nothing was lost.",
            )
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return UserMessage(
                "error",
                f"Greenpair is not allowed to write or read a file{where}.",
                "Check the file's permissions, or choose another data folder with "
                "GREENPAIR_HOME.",
            )
        if exc.errno == errno.ENOENT:
            return UserMessage(
                "error",
                f"A file or folder is gone{where}.",
                "It may have been moved or deleted; pick the repository again.",
            )
    if isinstance(exc, MemoryError):
        return UserMessage(
            "error",
            "The computer ran out of memory.",
            "Close other programs or choose a smaller model in Settings (eco mode).",
        )
    return None


class MessageBridge(QObject):
    """Delivers user messages to the GUI thread; keeps them until a view connects.

    Signals:
        posted(object): A ``UserMessage`` for the view (always in the GUI thread).
    """

    posted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: list[UserMessage] = []
        self._connected = False
        self._hooked = False

    def hook_core(self) -> None:
        """Start receiving ``greenpair.core.messages`` (from any thread)."""
        if not self._hooked:
            messages.connect(self._on_core_message)
            self._hooked = True

    def unhook_core(self) -> None:
        """Stop receiving core messages."""
        if self._hooked:
            messages.disconnect(self._on_core_message)
            self._hooked = False

    def post(self, message: UserMessage) -> None:
        """Show ``message`` now if a view listens, else keep it for the first view."""
        with self._lock:
            if not self._connected:
                self._pending.append(message)
                return
        self.posted.emit(message)

    def post_error(self, exc: BaseException) -> bool:
        """Post a user-facing error for ``exc``.

        Returns:
            False when ``exc`` is unexpected (a bug) and was not posted.
        """
        message = describe_error(exc)
        if message is None:
            return False
        self.post(message)
        return True

    def pending(self) -> list[UserMessage]:
        """Messages kept so far (not yet delivered)."""
        with self._lock:
            return list(self._pending)

    def flush(self) -> None:
        """A view now listens to ``posted``: deliver what was kept, then deliver live."""
        with self._lock:
            kept, self._pending = self._pending, []
            self._connected = True
        for message in kept:
            self.posted.emit(message)

    def _on_core_message(self, level: str, text: str) -> None:
        self.post(UserMessage(level, text))


_bridge: MessageBridge | None = None


def global_bridge() -> MessageBridge:
    """The process-wide bridge (created on first use, in the GUI thread)."""
    global _bridge
    if _bridge is None:
        _bridge = MessageBridge()
    return _bridge


def reset_global_bridge() -> None:
    """Drop the process-wide bridge (between tests, or when the app quits)."""
    global _bridge
    if _bridge is not None:
        _bridge.unhook_core()
        _bridge.deleteLater()
    _bridge = None
