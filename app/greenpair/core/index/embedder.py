"""Sentence embeddings from the packaged all-MiniLM-L6-v2, fast on a laptop CPU.

The default backend runs the verified ONNX export (see ``onnx_export``) with onnxruntime
and the ``tokenizers`` library: texts are tokenised once (truncated to ``max_tokens``)
and run one per call, so no time goes into padding (batches, sorted by length, are
supported but measured slower on CPU); vectors are mean-pooled over real tokens and
L2-normalised, exactly like sentence-transformers. The export comes from the package's
built-in bundle or a local export (``embedder_bundle``); when neither exists and torch is
installed (the ``export`` extra), the sentence-transformers model is used instead.

``python -m greenpair.core.index.embedder --prepare`` makes the local export (``make
models``); ``--bundle DIR`` copies it into a package being built.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from greenpair.core.index import embedder_bundle, onnx_export
from greenpair.core.index.onnx_embedder import DIM, Embedder, OnnxEmbedder

__all__ = ["DEFAULT_MAX_TOKENS", "DEFAULT_PRECISION", "DIM", "Embedder", "OnnxEmbedder",
           "TorchEmbedder", "load_embedder", "space_name"]

log = logging.getLogger(__name__)

# Chosen on benchmarks/retrieval.py (pytest set; same run, same load; see the report):
#   fp32/256 tokens: R@5 .873, MRR .769, 1.9x the speed of torch unsorted;
#   int8/128 tokens: R@5 .873, MRR .759, 4.5x. Dense vectors are one signal of several,
#   and a definition's first 128 tokens (signature, docstring) carry most of its meaning.
DEFAULT_PRECISION = "int8"
BASE_NAME = "all-minilm-l6-v2"  # the packaged model (the ``embedder_model`` setting's "")
DEFAULT_MAX_TOKENS = 128
class TorchEmbedder:
    """The sentence-transformers model: the fallback when no ONNX export is usable."""

    dim = DIM

    def __init__(self, src: Path, *, name: str, max_tokens: int = onnx_export.MAX_TOKENS) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = name
        self._model = SentenceTransformer(str(src), device="cpu")
        self._model.max_seq_length = max_tokens
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` (sentence-transformers sorts by length itself)."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)


def _torch_fallback(max_tokens: int, cause: Exception, src: Path | None = None) -> Embedder:
    from greenpair.core.errors import ModelError

    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        if isinstance(cause, ModelError):
            raise cause from None
        raise ModelError(
            f"The embedding model could not be loaded: {cause}",
            hint="Reinstall Greenpair; a checkout needs `make setup`.",
        ) from cause
    base = space_base(str(src) if src is not None else "")
    src = src or onnx_export.source_dir()
    name = f"{space_name('fp32', max_tokens, base)}:{onnx_export.model_key(src)}"
    return TorchEmbedder(src, name=name, max_tokens=max_tokens)


def model_source(model: str) -> Path | None:
    """The sentence-transformers folder the ``embedder_model`` setting names (None: "").

    Raises:
        ModelError: The folder is not a model this recipe can export.
    """
    return onnx_export.check_source(Path(model).expanduser().resolve()) if model else None


def space_base(model: str) -> str:
    """The vector space's model part for the ``embedder_model`` setting: the packaged
    model's name, or the folder's name and its weights' hash (a retrained model in the
    same folder is another space)."""
    src = model_source(model)
    if src is None:
        return BASE_NAME
    return f"{src.name.lower()}@{onnx_export.model_key(src)[:8]}"


def space_name(precision: str, max_tokens: int = onnx_export.MAX_TOKENS,
               base: str = "") -> str:
    """The name of the vector space an embedder configuration produces."""
    suffix = "" if max_tokens == onnx_export.MAX_TOKENS else f":{max_tokens}t"
    return f"{base or BASE_NAME}:{precision}{suffix}"


def load_embedder(
    precision: str = DEFAULT_PRECISION, max_tokens: int = DEFAULT_MAX_TOKENS, model: str = ""
) -> Embedder:
    """A new embedder for ``precision`` (``fp32`` or ``int8``).

    ``model`` is the ``embedder_model`` setting: "" for the packaged all-MiniLM-L6-v2, else
    a sentence-transformers folder (a fine-tuned model), exported and verified on first
    use like the packaged one. Its vectors are a space of their own (the name holds the
    folder's name and its weights' hash), so an index made with another model re-embeds.

    The process keeps the ones it loaded in its ``Services`` (``services.embedders``); this
    function only loads. Texts are truncated to ``max_tokens`` (at most 256, the model's
    training length). Uses the built-in bundle or the local export (made on first use where
    torch is installed); falls back to torch (fp32 space) when no export works, logging why.

    Raises:
        ModelError: No ONNX export is usable and torch is not installed.
    """
    if precision not in onnx_export.MIN_COSINE:
        raise ValueError(f"unknown precision {precision!r}")
    max_tokens = max(16, min(max_tokens, onnx_export.MAX_TOKENS))
    src = model_source(model)
    base = space_base(model)
    try:
        export = embedder_bundle.find(precision, src)
        used = precision if precision in export.files else sorted(export.files)[0]
        if used != precision:
            log.warning("no verified %s export; using %s", precision, used)
        name = f"{space_name(used, max_tokens, base)}:{export.key}"
        return OnnxEmbedder(
            export.folder / export.files[used]["file"], export.tokenizer,
            name=name, max_tokens=max_tokens,
        )
    except Exception as exc:  # noqa: BLE001 - any ONNX problem: fall back to torch
        log.warning("ONNX embedder unavailable (%s); using sentence-transformers", exc)
        return _torch_fallback(max_tokens, exc, src)


def _main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prepare", action="store_true", help="export and verify the model")
    parser.add_argument("--force", action="store_true", help="export again even when done")
    parser.add_argument(
        "--bundle", type=Path, metavar="DIR",
        help="copy the verified export into DIR (a package's greenpair/data/embedder)",
    )
    args = parser.parse_args(argv)
    if not (args.prepare or args.bundle):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    folder = onnx_export.prepare(force=args.force)
    if args.bundle:
        embedder_bundle.write_bundle(args.bundle)
        log.info("embedder bundle written to %s", args.bundle)
    manifest = onnx_export.read_manifest(folder) or {}
    for precision, info in sorted(manifest.get("files", {}).items()):
        log.info(
            "embedder %s ready: %s (cosine to torch: mean %.4f, min %.4f)",
            precision, folder / info["file"], info["mean_cosine"], info["min_cosine"],
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
