"""The built-in embedder bundle: written from the verified export, used without torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from greenpair.core.index import embedder as embedder_mod
from greenpair.core.index import embedder_bundle, onnx_export
from greenpair.core.index.embedder import OnnxEmbedder

TEXTS = ["def add(a, b):\n    return a + b", "Where is the discount applied?", "x"]


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return embedder_bundle.write_bundle(tmp_path / "embedder")


def test_bundle_holds_the_int8_model_its_tokenizer_and_the_key(bundle: Path) -> None:
    export = embedder_bundle.bundled(bundle)
    assert export is not None
    assert export.bundled
    assert sorted(export.files) == ["int8"]
    assert export.key == onnx_export.model_key()
    assert export.files["int8"]["mean_cosine"] >= onnx_export.MIN_COSINE["int8"]
    assert sorted(p.name for p in bundle.iterdir()) == [
        "manifest.json", "model-int8.onnx", "tokenizer.json"
    ]


def test_bundle_gives_the_same_vectors_as_the_local_export(bundle: Path) -> None:
    export = embedder_bundle.bundled(bundle)
    local = embedder_bundle.local()
    assert export is not None
    a = OnnxEmbedder(export.folder / export.files["int8"]["file"], export.tokenizer, name="b")
    b = OnnxEmbedder(local.folder / local.files["int8"]["file"], local.tokenizer, name="l")
    np.testing.assert_allclose(a.embed(TEXTS), b.embed(TEXTS), atol=1e-6)


def test_load_embedder_prefers_the_bundle_and_names_the_same_space(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_name = embedder_mod.load_embedder("int8").name
    monkeypatch.setattr(embedder_bundle, "BUNDLE_DIR", bundle)
    assert embedder_bundle.find("int8").bundled
    assert embedder_mod.load_embedder("int8").name == local_name


def test_incomplete_bundles_are_ignored(bundle: Path) -> None:
    (bundle / "model-int8.onnx").unlink()
    assert embedder_bundle.bundled(bundle) is None
    assert embedder_bundle.bundled(bundle.parent / "missing") is None
