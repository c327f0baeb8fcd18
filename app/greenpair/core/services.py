"""The composition root: the services one process shares, built once and passed down.

Each entry point (the CLI, the window with its tray and popup, ``serve``, ``mcp``, the
audit) builds one ``Services`` and hands its parts to the work it starts; nothing in core
reaches for a process-wide object. Tests build their own with the tiny model::

    services = Services.build()                 # the saved settings
    index = services.index(repo)                # one RepoIndex per repository, kept
    conv = Conversation(repo, runtime=services.runtime(), index=index,
                        meter=services.meter)
    ...
    services.close()                            # unload the model, close the indexes

The parts load lazily: building a ``Services`` reads the settings file and nothing else,
so ``greenpair --help`` and the window stay fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenpair.core.config import Settings, load_settings, save_settings

if TYPE_CHECKING:
    from greenpair.core.energy.meter import Meter
    from greenpair.core.index.embedder import Embedder
    from greenpair.core.index.repo_index import RepoIndex
    from greenpair.core.llm.manager import RuntimeManager
    from greenpair.core.llm.runtime import Runtime

SettingsListener = Callable[[Settings], None]


class Embedders:
    """The embedding models of one process, loaded once per configuration.

    Args:
        loader: Loads an embedder for ``(precision, max_tokens)`` (default:
            :func:`greenpair.core.index.embedder.load_embedder`; tests pass a fake).
        model: The ``embedder_model`` setting used when a caller names none ("": the
            packaged model). An index is given the one its space was named after.
    """

    def __init__(self, loader: Callable[[str, int], Embedder] | None = None,
                 model: str = "") -> None:
        self._loader = loader
        self.model = model
        self._loaded: dict[tuple[str, int, str], Embedder] = {}
        self._lock = threading.Lock()

    def get(self, precision: str | None = None, max_tokens: int | None = None,
            model: str | None = None) -> Embedder:
        """The embedder for ``precision``, ``max_tokens`` and ``model`` (the index defaults
        and this object's ``model`` when None)."""
        from greenpair.core.index import embedder as embedder_mod

        key = (precision or embedder_mod.DEFAULT_PRECISION,
               max_tokens or embedder_mod.DEFAULT_MAX_TOKENS,
               self.model if model is None else model)
        with self._lock:
            found = self._loaded.get(key)
            if found is None:
                if self._loader is not None:
                    found = self._loader(key[0], key[1])
                else:
                    found = embedder_mod.load_embedder(*key)
                self._loaded[key] = found
            return found


class Services:
    """Settings, meter, model runtime, embedders and indexes of one process.

    Args:
        settings: The settings in force (``Services.build`` reads the saved ones).
        meter: The energy meter (default: a new ``Meter`` reading these settings).
        runtimes: The model manager (default: one built from these settings).
        embedders: The embedding models (default: the packaged embedder, loaded on use).
        persist: ``save_settings`` writes the settings file (False in tests that only
            want the change in memory).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        meter: Meter | None = None,
        runtimes: RuntimeManager | None = None,
        embedders: Embedders | None = None,
        persist: bool = True,
    ) -> None:
        from greenpair.core.assistant.suggest.suggestion import SuggestionCounts
        from greenpair.core.energy.meter import Meter
        from greenpair.core.llm.manager import RuntimeManager

        self._settings = settings
        self._persist = persist
        self._listeners: list[SettingsListener] = []
        self.meter: Meter = meter if meter is not None else Meter(settings=self._current)
        self.runtimes = runtimes if runtimes is not None else RuntimeManager(meter=self.meter)
        self.embedders = embedders if embedders is not None else \
            Embedders(model=settings.embedder_model)
        self.suggestions = SuggestionCounts()
        self._indexes: dict[Path, RepoIndex] = {}
        self._lock = threading.RLock()

    @classmethod
    def build(cls, settings: Settings | None = None, **parts: Any) -> Services:
        """The services of an entry point: the saved settings unless ``settings`` is given."""
        return cls(settings if settings is not None else load_settings(), **parts)

    # -- settings ---------------------------------------------------------------------
    def _current(self) -> Settings:
        return self._settings

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        return self._settings

    def save_settings(self, settings: Settings) -> None:
        """Make ``settings`` the ones in force, save them and tell the listeners.

        They are in force even when saving fails (the user chose them); the listeners
        hear of them once they are saved.

        Raises:
            ConfigError: The settings file on disk does not parse (it is kept), or cannot
                be written.
        """
        self._settings = settings
        if self._persist:
            save_settings(settings)
        for callback in list(self._listeners):
            callback(settings)

    def on_settings_changed(self, callback: SettingsListener) -> None:
        """Call ``callback`` with the new settings after each ``save_settings``."""
        self._listeners.append(callback)

    # -- model and indexes --------------------------------------------------------------
    def runtime(self) -> Runtime:
        """The model runtime for the settings in force (loaded on first generation)."""
        return self.runtimes.get(self._settings)

    def embedder(self) -> Embedder:
        """The embedding model of the settings in force (loaded once)."""
        return self.embedders.get(model=self._settings.embedder_model)

    def index(self, repo: Path, *, rebuild: bool = False) -> RepoIndex:
        """The repository's index, opened on first use and kept (``rebuild``: start anew)."""
        from greenpair.core.index.repo_index import check_repo, open_index

        path = check_repo(repo)
        with self._lock:
            found = self._indexes.get(path)
            if found is not None and not rebuild:
                return found
            if found is not None:
                found.close()
            model = self._settings.embedder_model  # the index's space and its embedder
            found = open_index(path, self._settings, rebuild=rebuild, meter=self.meter,
                               embedder_source=lambda p, t: self.embedders.get(p, t, model))
            self._indexes[path] = found
            return found

    def open_indexes(self) -> list[RepoIndex]:
        """The indexes opened so far."""
        with self._lock:
            return list(self._indexes.values())

    def close(self) -> None:
        """Close the indexes, unload the model and stop the meter's sampler."""
        with self._lock:
            indexes, self._indexes = list(self._indexes.values()), {}
        for index in indexes:
            index.close()
        self.runtimes.release()
        self.meter.close()
