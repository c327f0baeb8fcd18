"""Egress policy: nothing leaves the machine unless the user allow-lists a host.

``enforce_offline_environment`` switches every library we load into offline, no-telemetry
mode. It runs when the ``greenpair`` package is imported (``greenpair/__init__.py``), so it
comes first whichever entry point starts: the CLI, the window, ``python -m greenpair``, the
tests and the benchmarks; native libraries read these variables when they load, after it.
The proof that nothing leaves is at the system-call level (``greenpair.core.egress``,
``greenpair audit``). ``check_host`` guards the only code that opens connections on purpose (the optional
OpenAI-compatible backend and URL model downloads).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from greenpair.core.errors import PrivacyError

# What each dependency reads (checked against its documentation or source):
# * onnxruntime (the embedder): its compiled module carries a telemetry client that
#   resolves mobile.events.data.microsoft.com unless ORT_DISABLE_TELEMETRY is set before
#   it loads; ``onnxruntime.disable_telemetry_events()`` alone does not stop it.
# * huggingface_hub / transformers / sentence-transformers / datasets: offline mode (no
#   hub lookups, no implicit token) and no telemetry.
# * chromadb: posthog product telemetry (we also pass anonymized_telemetry=False).
# * DO_NOT_TRACK / DISABLE_TELEMETRY: the cross-tool conventions others honour.
# llama.cpp, tokenizers, tree-sitter, PySide6, pynput and watchdog have no telemetry or
# update check (tokenizers only gets its fork-safety setting here).
_OFFLINE_ENV = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    "CHROMA_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce_offline_environment() -> None:
    """Put ONNX Runtime, Hugging Face, Chroma and friends in offline, no-telemetry mode.

    Idempotent and cheap; called on import of ``greenpair`` (and of ``greenpair.core``, for
    code that imports the core package directly).
    """
    for key, value in _OFFLINE_ENV.items():
        os.environ[key] = value


def is_loopback_host(host: str) -> bool:
    """True when ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    host = host.strip("[]").lower()
    if host in {"localhost", "localhost.localdomain", "ip6-localhost"}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(url: str, allowed_hosts: Iterable[str] = ()) -> str:
    """Return the host of ``url`` if the policy lets Greenpair connect to it.

    Args:
        url: The URL about to be opened.
        allowed_hosts: Hosts (names or addresses, optionally ``host:port``) that the user
            added to the allow-list in the settings.

    Raises:
        PrivacyError: Before any connection is made, when the host is neither loopback
            nor allow-listed.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PrivacyError(
            f"Refusing to connect to {url!r}: only http(s) URLs with a host are supported."
        )
    host = parts.hostname
    if is_loopback_host(host):
        return host
    allowed = {h.strip().lower() for h in allowed_hosts if h.strip()}
    with_port = f"{host}:{parts.port}" if parts.port else host
    if host.lower() in allowed or with_port.lower() in allowed:
        return host
    raise PrivacyError(
        f"Refusing to connect to {host}: Greenpair only talks to this machine unless you "
        "allow a host.",
        hint=f"If {host} is your own model server, add it to Settings → Allowed hosts "
        f"(or `greenpair config set allowed_hosts {host}`).",
    )


def resolves_to_loopback(host: str) -> bool:
    """True when every address ``host`` resolves to is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos
    )
