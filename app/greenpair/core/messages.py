"""A Qt-free sink for info and warning messages from core.

Core calls ``info``/``warning``; the CLI prints them to stderr; the window's bridge keeps
them until a view connects (as qutebrowser's message bridge does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("greenpair")

Listener = Callable[[str, str], None]  # (level, text)
_listeners: list[Listener] = []


def connect(listener: Listener) -> None:
    """Receive every future message."""
    _listeners.append(listener)


def disconnect(listener: Listener) -> None:
    """Stop receiving messages."""
    if listener in _listeners:
        _listeners.remove(listener)


def _emit(level: str, text: str) -> None:
    getattr(log, level)(text)
    for listener in list(_listeners):
        listener(level, text)


def info(text: str) -> None:
    """An informational message for the user."""
    _emit("info", text)


def warning(text: str) -> None:
    """A warning for the user."""
    _emit("warning", text)
