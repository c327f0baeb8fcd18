"""Settings and the data directory.

All state (settings, indexes, models, energy ledger, logs) lives under one data directory:
``$GREENPAIR_HOME`` when set, else the platform's user data directory. Nothing is ever
written inside the user's repository.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenpair.core.errors import ConfigError

APP_NAME = "greenpair"
SCHEMA_VERSION = 1
# Chosen from the measured reload cost (core/llm/lifecycle.py, README "Model lifecycle").
DEFAULT_UNLOAD_AFTER_IDLE_S = 600
DEFAULT_MODEL = "qwen2.5-coder-1.5b"
ECO_MODEL = "qwen2.5-coder-0.5b"
TINY_MODEL = "smollm2-135m"


def _make_dir(path: Path) -> Path:
    """Create a state folder, or say why it cannot be and how to fix it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create {path}: {exc.strerror or exc}.",
            hint="Make the data directory writable, free some space, or set GREENPAIR_HOME "
            "to a folder you can write.",
        ) from exc
    return path


def data_dir() -> Path:
    """The one directory holding all of Greenpair's state (created on demand)."""
    home = os.environ.get("GREENPAIR_HOME")
    if home:
        path = Path(home).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return _make_dir(path)


def models_dir() -> Path:
    """Where assembled model files are kept."""
    return _make_dir(data_dir() / "models")


def cache_dir() -> Path:
    """Disposable caches (downloaded wheels, exported embedding models)."""
    return _make_dir(data_dir() / "cache")


def logs_dir() -> Path:
    """Log files."""
    return _make_dir(data_dir() / "logs")


def settings_path() -> Path:
    """The settings file."""
    return data_dir() / "settings.json"


def ledger_path() -> Path:
    """The energy ledger (SQLite)."""
    return data_dir() / "energy.sqlite3"


def repo_key(repo: Path) -> str:
    """A stable, filesystem-safe key for a repository path."""
    real = Path(repo).expanduser().resolve()
    digest = hashlib.sha1(str(real).encode("utf-8")).hexdigest()[:12]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in real.name)[:40] or "root"
    return f"{name}-{digest}"


def index_dir(repo: Path) -> Path:
    """Where the index of ``repo`` is stored (outside the repository)."""
    return _make_dir(data_dir() / "indexes" / repo_key(repo))


def physical_cores() -> int:
    """Physical CPU cores (falls back to logical cores)."""
    try:
        import psutil

        n = psutil.cpu_count(logical=False)
    except Exception:  # noqa: BLE001 - psutil may be missing or fail on odd platforms
        n = None
    return n or os.cpu_count() or 1


@dataclass
class Settings:
    """Typed user settings with defaults in code. Stored as JSON in the data directory.

    ``threads`` of 0 lets each generation choose (``core/llm/threads.py``): every physical
    core while the machine is otherwise idle and on mains power, physical cores − 1 when
    other work keeps a core busy or on battery (so the desktop stays responsive).
    """

    schema_version: int = SCHEMA_VERSION
    model: str = DEFAULT_MODEL
    threads: int = 0
    gpu_layers: int = 0
    context_size: int = 0  # 0: the catalog's value for the model
    eco_mode: bool = False
    # Free the model after this long idle (0: keep it); see core/llm/lifecycle.py.
    unload_after_idle_s: int = DEFAULT_UNLOAD_AFTER_IDLE_S
    unload_on_battery: bool = False  # free the idle model as soon as it runs on battery
    carbon_intensity_g_per_kwh: float = 475.0
    country: str = ""
    cpu_watts_per_core: float = 0.0  # 0: from the CPU table, else 4 W per thread
    allow_powermetrics: bool = False  # macOS: run `sudo -n powermetrics` for power
    allowed_hosts: list[str] = field(default_factory=list)
    allow_model_downloads: bool = False  # `models pull` may fetch without asking (--yes)
    remote_url: str = ""  # OpenAI-compatible server; empty: local llama.cpp
    remote_model: str = ""
    remote_context_size: int = 0  # 0: ask the server (2,048 when it cannot say)
    chroma_url: str = ""  # a team's Chroma server (http://host:8000); empty: local vectors
    max_file_bytes: int = 1 << 20
    max_files: int = 100_000  # files indexed per repository; past it, a message says why
    recent_repos: list[str] = field(default_factory=list)
    hotkey: str = "Ctrl+Alt+Space"
    start_minimised: bool = False
    autostart: bool = False
    pause_indexing_on_battery: bool = True
    sampler_hz: float = 1.0
    keep_conversations: bool = True  # kept per repository in the data directory
    check_timeout_s: int = 180  # a patch's check (tests and repair drafts) ends by then
    check_tries: int = 2  # drafts checked per patch at most (1: no repair)
    # "": the packaged all-MiniLM-L6-v2; a path: a sentence-transformers folder (a model
    # fine-tuned on code, benchmarks/finetune_embedder.py), for indexes opened after it is set.
    embedder_model: str = ""

    def effective_threads(self) -> int:
        """Threads when backing off: the setting, else physical cores − 1 (eco: half).

        A generation the user waits for may take every core (``ThreadPolicy``)."""
        if self.threads > 0:
            return self.threads
        cores = physical_cores()
        n = max(1, cores - 1)
        if self.eco_mode:
            n = max(1, n // 2)
        return n

    def effective_model(self) -> str:
        """The model to use: eco mode swaps the default for the smaller one."""
        if self.eco_mode and self.model == DEFAULT_MODEL:
            return ECO_MODEL
        return self.model

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Settings:
        """Build from a dictionary, ignoring unknown keys and checking types."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        defaults = cls()
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in known:
                continue
            expected = type(getattr(defaults, key))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (
                expected is int and isinstance(value, bool)
            ):
                raise ConfigError(
                    f"Setting {key!r} should be {expected.__name__}, got {value!r}.",
                    hint=f"Fix or delete it in {settings_path()}.",
                )
            values[key] = value
        return cls(**values)

    def set_from_text(self, key: str, text: str) -> None:
        """Set one field from a command-line string (``config set KEY VALUE``)."""
        fields = {f.name for f in dataclasses.fields(self)}
        if key not in fields or key == "schema_version":
            raise ConfigError(
                f"Unknown setting {key!r}.", hint="Known: " + ", ".join(sorted(fields))
            )
        current = getattr(self, key)
        value: Any
        try:
            if isinstance(current, bool):
                if text.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                    raise ValueError(text)
                value = text.lower() in {"1", "true", "yes", "on"}
            elif isinstance(current, int):
                value = int(text)
            elif isinstance(current, float):
                value = float(text)
            elif isinstance(current, list):
                value = [t.strip() for t in text.split(",") if t.strip()]
            else:
                value = text
        except ValueError:
            raise ConfigError(
                f"{text!r} is not a valid value for {key} ({type(current).__name__})."
            ) from None
        setattr(self, key, value)


_warned: set[tuple[str, int]] = set()  # (path, mtime_ns) already reported


def _warn_once(path: Path, text: str) -> None:
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError:
        key = (str(path), 0)
    if key not in _warned:
        _warned.add(key)
        from greenpair.core import messages

        messages.warning(text)


def _read_raw(path: Path) -> tuple[dict[str, Any] | None, str]:
    """The JSON object in ``path``, or ``(None, why)`` when it does not parse."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, str(exc)
    if not isinstance(raw, dict):
        return None, "it does not hold a JSON object"
    return raw, ""


def load_settings() -> Settings:
    """Read the settings file (defaults when there is none).

    A file that does not parse gives the defaults and a warning (once per version of the
    file); a value of the wrong type falls back to its default with a warning. The file
    itself is kept as it is: :func:`save_settings` refuses to overwrite it.
    """
    path = settings_path()
    if not path.exists():
        return Settings()
    raw, why = _read_raw(path)
    if raw is None:
        _warn_once(path, f"The settings file {path} does not parse ({why}); using the "
                   "defaults. The file is kept as it is: fix it or delete it.")
        return Settings()
    try:
        return Settings.from_dict(raw)
    except ConfigError:
        pass
    defaults = Settings()
    kept: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            Settings.from_dict({key: value})
        except ConfigError as exc:
            _warn_once(path, f"{exc.message} Using the default, {getattr(defaults, key)!r}.")
        else:
            kept[key] = value
    return Settings.from_dict(kept)


def save_settings(settings: Settings) -> None:
    """Write the settings atomically (``Services.save_settings`` also tells listeners).

    Raises:
        ConfigError: The settings file on disk does not parse; it is kept rather than
            overwritten (it may hold the user's hand edits).
    """
    path = settings_path()
    if path.exists() and _read_raw(path)[0] is None:
        raise ConfigError(
            f"Not saving the settings: {path} does not parse ({_read_raw(path)[1]}), and "
            "saving would overwrite it.",
            hint="Fix the file or delete it, then change the setting again.",
        )
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(settings.to_dict(), indent=2, sort_keys=True),
                       encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(
            f"Cannot save the settings in {path}: {exc.strerror or exc}.",
            hint="Free some space or make the data directory writable "
            "(set GREENPAIR_HOME to move it).",
        ) from exc


def remember_repo(settings: Settings, repo: Path, keep: int = 10) -> None:
    """Put ``repo`` first in the recent-repositories list."""
    real = str(Path(repo).expanduser().resolve())
    settings.recent_repos = [real, *[r for r in settings.recent_repos if r != real][: keep - 1]]
