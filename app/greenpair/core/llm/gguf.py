"""Cheap checks of a GGUF file before handing it to llama.cpp.

llama.cpp answers a bad file with a bare ``ValueError`` (or worse, a crash on a truncated
tensor); these checks name the file and the fix first.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from greenpair.core.errors import ModelError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)


@dataclass(frozen=True)
class GgufHeader:
    """The fixed part of a GGUF header."""

    version: int
    tensor_count: int
    metadata_count: int


def is_gguf(path: Path) -> bool:
    """Whether ``path`` is a readable file starting with the GGUF magic bytes."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == GGUF_MAGIC
    except OSError:
        return False


def _fix_hint(model_id: str | None) -> str:
    if model_id:
        return f"Run `greenpair models pull {model_id}` to fetch it again."
    return "Point Greenpair at a complete .gguf file (`greenpair models use PATH`)."


def read_header(path: Path, *, model_id: str | None = None) -> GgufHeader:
    """Read and check the GGUF header of ``path``.

    Args:
        path: The model file.
        model_id: The catalog id, to name the fix in errors.

    Raises:
        ModelError: Missing, unreadable, not a GGUF file, or an unsupported version.
    """
    if not path.exists():
        raise ModelError(f"The model file {path} does not exist.", hint=_fix_hint(model_id))
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
    except OSError as exc:
        raise ModelError(
            f"Cannot read the model file {path}: {exc.strerror or exc}.",
            hint="Check its permissions. " + _fix_hint(model_id),
        ) from exc
    if len(head) < 24 or head[:4] != GGUF_MAGIC:
        raise ModelError(
            f"{path} is not a GGUF model file (corrupt, truncated or another format).",
            hint=_fix_hint(model_id),
        )
    version, tensors, metadata = struct.unpack("<IQQ", head[4:24])
    if version not in SUPPORTED_VERSIONS:
        raise ModelError(
            f"{path} is GGUF version {version}; this Greenpair reads versions 2 and 3.",
            hint=_fix_hint(model_id),
        )
    return GgufHeader(version=version, tensor_count=tensors, metadata_count=metadata)


def check_model_file(
    path: Path, *, expected_size: int | None = None, model_id: str | None = None
) -> GgufHeader:
    """Check header and (for catalog models) size before loading.

    Raises:
        ModelError: The file is missing, not GGUF, or has the wrong size (truncated).
    """
    header = read_header(path, model_id=model_id)
    if expected_size is not None:
        size = path.stat().st_size
        if size != expected_size:
            what = "truncated" if size < expected_size else "larger than expected"
            raise ModelError(
                f"The model file {path} is {what} ({size:,} bytes instead of "
                f"{expected_size:,}).",
                hint=_fix_hint(model_id),
            )
    return header
