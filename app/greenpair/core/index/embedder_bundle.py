"""Where a verified ONNX export of the embedding model is found, and the built-in bundle.

A wheel or app package carries the export it was built with in ``greenpair/data/embedder/``
(the model file, the tokenizer and a manifest with the model key and the cosines measured
against the torch model at build time). Users' machines then need no torch and no source
model. Developers, and precisions the bundle lacks, use the local export of
``onnx_export.prepare`` (which needs the ``export`` extra).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenpair.core.index import onnx_export

log = logging.getLogger(__name__)

BUNDLE_DIR = Path(__file__).resolve().parents[2] / "data" / "embedder"
TOKENIZER = "tokenizer.json"
# What a package carries: int8 is the default precision (23 MB; fp32 would add 90 MB).
BUNDLED_PRECISIONS = ("int8",)


@dataclass(frozen=True)
class Export:
    """A verified export.

    Attributes:
        folder: The folder holding the model files.
        files: Verification records by precision (``file``, ``mean_cosine``, ``min_cosine``).
        key: The source model's key (names the vector space, so indexes stay comparable).
        tokenizer: The ``tokenizer.json`` to use with it.
        bundled: Whether it is the bundle inside the package.
    """

    folder: Path
    files: dict[str, Any]
    key: str
    tokenizer: Path
    bundled: bool


def bundled(folder: Path | None = None) -> Export | None:
    """The export inside the installed package, or None when it was built without one."""
    folder = folder or BUNDLE_DIR
    manifest = onnx_export.read_manifest(folder)
    if not manifest or not manifest.get("key") or not (folder / TOKENIZER).is_file():
        return None
    files = {
        precision: info
        for precision, info in manifest.get("files", {}).items()
        if (folder / info.get("file", "")).is_file()
    }
    if not files:
        return None
    return Export(folder, files, str(manifest["key"]), folder / TOKENIZER, bundled=True)


def local(src: Path | None = None) -> Export:
    """The local export of ``src`` (default: the packaged model), made once when missing.

    Raises:
        ModelError: No export can be made here (the ``export`` extra is not installed) or
            the export failed its verification.
    """
    folder = onnx_export.prepare(src=src)
    src = src or onnx_export.source_dir()
    files = (onnx_export.read_manifest(folder) or {}).get("files", {})
    return Export(folder, files, onnx_export.model_key(src), src / TOKENIZER, bundled=False)


def find(precision: str, src: Path | None = None) -> Export:
    """The export to use for ``precision``: the bundle when it has it, else the local one.

    When neither has ``precision`` but the bundle exists, the bundle is returned (the caller
    uses a precision it has and says so). A model of the user's own (``src``, a
    sentence-transformers folder) is never in the bundle: its local export is made.

    Raises:
        ModelError: Neither a bundle nor a local export is available.
    """
    from greenpair.core.errors import ModelError

    if src is not None:
        return local(src)
    bundle = bundled()
    if bundle is not None and precision in bundle.files:
        return bundle
    try:
        return local()
    except ModelError as exc:
        if bundle is None:
            raise
        log.info("no local %s export (%s); using the built-in bundle", precision, exc.message)
        return bundle


def write_bundle(target: Path, precisions: Sequence[str] = BUNDLED_PRECISIONS) -> Path:
    """Copy the verified local export (made when missing) into ``target`` for a package.

    Returns:
        ``target``, holding the model files, ``tokenizer.json`` and ``manifest.json``.

    Raises:
        ModelError: The export could not be made or verified, or lacks a precision.
    """
    from greenpair.core.errors import ModelError

    source = local()
    missing = [p for p in precisions if p not in source.files]
    if missing:
        raise ModelError(f"The local embedder export has no verified {', '.join(missing)} file.")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    files = {}
    for precision in precisions:
        info = source.files[precision]
        shutil.copy2(source.folder / info["file"], target / info["file"])
        files[precision] = info
    shutil.copy2(source.tokenizer, target / TOKENIZER)
    manifest = dict(onnx_export.read_manifest(source.folder) or {})
    manifest.update(files=files, key=source.key)
    tmp = target / f"{onnx_export.MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, target / onnx_export.MANIFEST)
    return target
