"""The ONNX embedder matches the sentence-transformers model it was exported from."""

from __future__ import annotations

import time

import numpy as np

from greenpair.core.index import onnx_export
from greenpair.core.index.embedder import OnnxEmbedder, load_embedder

TEXTS = [
    "def total_price(self):\n    return sum(p * q for _, p, q in self.items)",
    "Where is the discount applied?",
    "x",
    "class Parser:\n" + "    def parse(self, text):\n        return text.split()\n" * 20,
]


def test_onnx_vectors_equal_torch_vectors() -> None:
    from sentence_transformers import SentenceTransformer

    embedder = load_embedder("fp32", max_tokens=onnx_export.MAX_TOKENS)
    assert isinstance(embedder, OnnxEmbedder)
    vectors = embedder.embed(TEXTS)
    model = SentenceTransformer(str(onnx_export.source_dir()), device="cpu")
    model.max_seq_length = onnx_export.MAX_TOKENS
    reference = model.encode(TEXTS, normalize_embeddings=True, show_progress_bar=False)
    assert vectors.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(vectors * reference, axis=1))) > 0.999


def test_int8_vectors_stay_close_to_fp32() -> None:
    exact = load_embedder("fp32", max_tokens=onnx_export.MAX_TOKENS).embed(TEXTS)
    fast = load_embedder("int8", max_tokens=onnx_export.MAX_TOKENS).embed(TEXTS)
    assert float(np.mean(np.sum(exact * fast, axis=1))) > 0.98


def test_batches_keep_the_input_order() -> None:
    embedder = load_embedder()
    together = embedder.embed(TEXTS)
    one_by_one = np.stack([embedder.embed([t])[0] for t in TEXTS])
    assert float(np.min(np.sum(together * one_by_one, axis=1))) > 0.9999


def test_prepare_is_idempotent_and_fast_when_done() -> None:
    folder = onnx_export.prepare()
    started = time.perf_counter()
    assert onnx_export.prepare() == folder
    assert time.perf_counter() - started < 2.0
    manifest = onnx_export.read_manifest(folder)
    assert manifest is not None
    assert manifest["files"]["fp32"]["min_cosine"] >= onnx_export.MIN_COSINE["fp32"]
