"""The one shared runtime of the process.

Every surface (CLI, window, hotkey popup) asks ``get_runtime()`` and gets the same object,
so the model is loaded once, lazily, and generations run one at a time (the runtime holds
a lock). Changing the model-related settings swaps the runtime at the next call.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenpair.core.config import Settings, load_settings
from greenpair.core.llm.runtime import Runtime

if TYPE_CHECKING:
    from greenpair.core.llm.llama import LlamaRuntime

_lock = threading.Lock()
_runtime: Any = None
_key: tuple[Any, ...] | None = None


def _settings_key(settings: Settings) -> tuple[Any, ...]:
    if settings.remote_url:
        from greenpair.core.llm.credentials import api_key

        return ("remote", settings.remote_url, settings.remote_model,
                tuple(settings.allowed_hosts), settings.remote_context_size,
                api_key(settings.remote_url))
    return ("llama", settings.effective_model(), settings.threads, settings.eco_mode,
            settings.gpu_layers, settings.context_size, settings.unload_after_idle_s,
            settings.unload_on_battery)


def _build(settings: Settings) -> Any:
    if settings.remote_url:
        from greenpair.core.llm.credentials import api_key
        from greenpair.core.llm.remote import RemoteRuntime

        return RemoteRuntime(
            settings.remote_url, model=settings.remote_model or settings.effective_model(),
            allowed_hosts=settings.allowed_hosts, n_ctx=settings.remote_context_size,
            api_key=api_key(settings.remote_url),
        )
    from greenpair.core.llm.llama import LlamaRuntime
    from greenpair.core.llm.threads import default_policy

    return LlamaRuntime(
        settings.effective_model(),
        n_ctx=settings.context_size or None,
        thread_policy=default_policy(settings.threads, settings.eco_mode),
        n_gpu_layers=settings.gpu_layers,
        **unload_options(settings),
    )


def get_runtime(settings: Settings | None = None) -> Runtime:
    """The shared runtime for ``settings`` (default: the saved settings).

    Nothing is loaded here: the model loads on the first generation or token count. The
    remote backend is used when ``settings.remote_url`` is set.

    Raises:
        ModelError: Unknown model id.
        PrivacyError: A remote URL whose host is not loopback or allow-listed.
    """
    global _runtime, _key
    settings = settings if settings is not None else load_settings()
    key = _settings_key(settings)
    with _lock:
        if _runtime is not None and key == _key:
            return _runtime
        new = _build(settings)
        old, _runtime, _key = _runtime, new, key
    if old is not None:
        old.unload()  # waits for a generation still running on it
    return new


def current_runtime() -> Runtime | None:
    """The shared runtime if one was created (never creates one)."""
    return _runtime


def release_runtime() -> None:
    """Unload and forget the shared runtime (at shutdown, or in tests)."""
    global _runtime, _key
    with _lock:
        old, _runtime, _key = _runtime, None, None
    if old is not None:
        old.unload()


def unload_options(settings: Settings) -> dict[str, Any]:
    """The ``LlamaRuntime`` options of the settings' unload rule (``core/llm/lifecycle.py``)."""
    return {"unload_after_idle_s": float(settings.unload_after_idle_s),
            "unload_on_battery": settings.unload_on_battery}


def open_runtime(model: str | Path, **opts: Any) -> LlamaRuntime:
    """A separate llama runtime for explicit use (tests, benchmarks), not the shared one.

    Args:
        model: A catalog id or a GGUF path.
        **opts: ``LlamaRuntime`` options (``n_ctx``, ``n_threads``, ``n_gpu_layers``,
            ``prompt_lookup``, ``unload_after_idle_s``, ``seed``).
    """
    from greenpair.core.llm.llama import LlamaRuntime

    return LlamaRuntime(model, **opts)
