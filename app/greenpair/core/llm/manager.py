"""The model manager: one runtime at a time for the settings in force.

The composition root (:class:`greenpair.core.services.Services`) holds one
``RuntimeManager``; every surface of that process (CLI command, window, hotkey popup,
server) asks it and gets the same object, so the model is loaded once, lazily, and
generations run one at a time (the runtime holds a lock). Changing the model-related
settings swaps the runtime at the next call and unloads the old one.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenpair.core.config import Settings
from greenpair.core.llm.runtime import Runtime

if TYPE_CHECKING:
    from greenpair.core.energy.meter_protocol import EnergyMeter
    from greenpair.core.llm.llama import LlamaRuntime


def _settings_key(settings: Settings) -> tuple[Any, ...]:
    if settings.remote_url:
        from greenpair.core.llm.credentials import api_key

        return ("remote", settings.remote_url, settings.remote_model,
                tuple(settings.allowed_hosts), settings.remote_context_size,
                api_key(settings.remote_url))
    return ("llama", settings.effective_model(), settings.threads, settings.eco_mode,
            settings.gpu_layers, settings.context_size, settings.unload_after_idle_s,
            settings.unload_on_battery)


def build_runtime(settings: Settings, meter: EnergyMeter | None = None) -> Any:
    """A new runtime for ``settings`` (remote when ``remote_url`` is set), not loaded yet."""
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
        meter=meter,
    )


class RuntimeManager:
    """Holds the process's runtime and swaps it when the model settings change.

    Args:
        meter: Given to the runtimes it builds (they record avoided work).
        build: Builds a runtime from ``(settings, meter)`` (tests pass one that returns a
            fake).
    """

    def __init__(self, meter: EnergyMeter | None = None, *,
                 build: Any = None) -> None:
        self._meter = meter
        self._build = build or build_runtime
        self._lock = threading.Lock()
        self._runtime: Any = None
        self._key: tuple[Any, ...] | None = None

    def get(self, settings: Settings) -> Runtime:
        """The runtime for ``settings``; the previous one is unloaded when they differ.

        Nothing is loaded here: the model loads on the first generation or token count.

        Raises:
            ModelError: Unknown model id.
            PrivacyError: A remote URL whose host is not loopback or allow-listed.
        """
        key = _settings_key(settings)
        with self._lock:
            if self._runtime is not None and key == self._key:
                runtime: Runtime = self._runtime
                return runtime
            new = self._build(settings, self._meter)
            old, self._runtime, self._key = self._runtime, new, key
        if old is not None:
            old.unload()  # waits for a generation still running on it
        return new

    def current(self) -> Runtime | None:
        """The runtime if one was made (never makes one)."""
        runtime: Runtime | None = self._runtime
        return runtime

    def release(self) -> None:
        """Unload and forget the runtime (at shutdown, or in tests)."""
        with self._lock:
            old, self._runtime, self._key = self._runtime, None, None
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
