"""The remote server's API key: from the environment or the OS keyring, never the settings.

Order: ``GREENPAIR_REMOTE_API_KEY`` (CI, containers, a team's launcher), then the OS
keyring (Secret Service, macOS Keychain, Windows Credential Locker) under the service
``greenpair`` and the server's URL. ``greenpair config set-api-key`` and the Settings
dialog write to the keyring; the settings file only ever holds the URL.
"""

from __future__ import annotations

import contextlib
import logging
import os

from greenpair.core.errors import ConfigError

log = logging.getLogger(__name__)

ENV_VAR = "GREENPAIR_REMOTE_API_KEY"
SERVICE = "greenpair"


def _account(url: str) -> str:
    return "remote:" + url.rstrip("/")


def api_key(url: str) -> str:
    """The API key for the server at ``url`` ("" when none is set)."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    if not url:
        return ""
    try:
        import keyring

        return keyring.get_password(SERVICE, _account(url)) or ""
    except Exception as exc:  # noqa: BLE001 - no keyring backend on this machine
        log.debug("no keyring to read the API key from: %s", exc)
        return ""


def store_api_key(url: str, key: str) -> None:
    """Keep ``key`` for ``url`` in the OS keyring ("" deletes it).

    Raises:
        ConfigError: This machine has no usable keyring.
    """
    try:
        import keyring

        if key:
            keyring.set_password(SERVICE, _account(url), key)
        else:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                keyring.delete_password(SERVICE, _account(url))
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"Cannot store the API key in the OS keyring ({exc}).",
            hint=f"Set the {ENV_VAR} environment variable instead; Greenpair never writes "
                 "API keys to its settings file.",
        ) from exc
