"""The model store: assembled model files in the data directory.

A catalog model lives at ``models_dir() / f"{model_id}.gguf"``. Any existing local GGUF
path works too.
"""

from __future__ import annotations

from pathlib import Path

from greenpair.core.config import models_dir


def model_path(model_id: str) -> Path:
    """Where the assembled file of catalog model ``model_id`` lives (may not exist)."""
    return models_dir() / f"{model_id}.gguf"


def _looks_like_path(text: str) -> bool:
    return text.endswith(".gguf") or "/" in text or "\\" in text or text.startswith("~")


def find_model(id_or_path: str | Path) -> Path | None:
    """The file of a model, or None when it is not on this machine.

    Args:
        id_or_path: A catalog id (``qwen2.5-coder-1.5b``) or the path of a local GGUF file.

    Returns:
        The existing file, or None.
    """
    if isinstance(id_or_path, Path) or _looks_like_path(str(id_or_path)):
        path = Path(id_or_path).expanduser()
        return path if path.is_file() else None
    path = model_path(str(id_or_path))
    return path if path.is_file() else None
