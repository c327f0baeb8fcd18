"""The server's bearer token, created on first run and kept in the data directory.

The token is required on every request, loopback included: any local process (or a web
page through a browser's loopback access) could otherwise drive the model and read the
code of the served repositories.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from greenpair.core.config import data_dir

TOKEN_FILE = "serve-token"


def token_path() -> Path:
    """Where the token is kept (readable by its owner only)."""
    return data_dir() / TOKEN_FILE


def load_or_create_token() -> str:
    """The server's token; a new random one is written on first use (mode 0600)."""
    path = token_path()
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    if token:
        return token
    token = "gp-" + secrets.token_urlsafe(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.replace(tmp, path)
    return token


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``token`` (constant-time compare)."""
    if not header or not token:
        return False
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())
