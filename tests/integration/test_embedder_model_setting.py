"""The ``embedder_model`` setting: a sentence-transformers folder of the user's own (a
fine-tuned model) is exported, verified and used, its vectors a space of their own; the
packaged model stays the default, one setting away."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from greenpair.core.config import Settings
from greenpair.core.errors import ModelError
from greenpair.core.index import embedder as embedder_mod
from greenpair.core.index import onnx_export
from greenpair.core.index.repo_index import open_index
from greenpair.core.services import Services

TEXTS = ["def add(a, b):\n    return a + b", "Where is the discount applied?"]


@pytest.fixture
def own_model(tmp_path: Path) -> Path:
    """A model folder of the user's own (the packaged weights, copied: same shape as what
    benchmarks/finetune_embedder.py saves)."""
    return Path(shutil.copytree(onnx_export.source_dir(), tmp_path / "Code-MiniLM"))


def test_an_own_model_is_exported_used_and_named_apart(own_model: Path, tmp_repo: Path) -> None:
    default = embedder_mod.load_embedder()
    own = embedder_mod.load_embedder(model=str(own_model))
    key = onnx_export.model_key(own_model)
    assert own.name == f"code-minilm@{key[:8]}:int8:128t:{key}"
    assert default.name.startswith("all-minilm-l6-v2:int8:128t:")
    np.testing.assert_allclose(own.embed(TEXTS), default.embed(TEXTS), atol=1e-5)  # same weights

    services = Services(Settings(embedder_model=str(own_model)), persist=False)
    try:
        assert services.embedder().name == own.name
        index = services.index(tmp_repo)
        assert index.space == f"code-minilm@{key[:8]}:int8:128t"
        index.update()
        assert index.search("discount code", k=3).chunks
    finally:
        services.close()
    # Opened without Services (as scripts do), the index loads the model its space names.
    alone = open_index(tmp_repo, Settings(embedder_model=str(own_model)))
    try:
        assert alone.embedder().name == own.name
    finally:
        alone.close()
    back = open_index(tmp_repo, Settings())  # the packaged model: its vectors are made again
    try:
        assert back.space == "all-minilm-l6-v2:int8:128t"
        assert back.store.get_meta("space") == "all-minilm-l6-v2:int8:128t|source"
    finally:
        back.close()


def test_a_folder_that_is_not_a_model_says_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    with pytest.raises(ModelError) as caught:
        embedder_mod.load_embedder(model=str(tmp_path / "notes"))
    assert "no config.json, tokenizer.json, model.safetensors" in caught.value.message
    assert "embedder_model" in (caught.value.hint or "")
    with pytest.raises(ModelError):
        open_index(tmp_path, Settings(embedder_model=str(tmp_path / "notes")))


def test_config_set_refuses_a_folder_that_is_not_a_model(own_model: Path,
                                                         tmp_path: Path) -> None:
    from click.testing import CliRunner

    from greenpair.cli import cli
    from greenpair.core.config import load_settings

    done = CliRunner().invoke(cli, ["config", "set", "embedder_model", str(tmp_path)])
    assert isinstance(done.exception, ModelError)  # the CLI's handler prints it with its hint
    assert "is not a sentence-transformers model folder" in done.exception.message
    assert load_settings().embedder_model == ""  # nothing was saved
    done = CliRunner().invoke(cli, ["config", "set", "embedder_model", str(own_model)])
    assert done.exit_code == 0, done.output
    assert load_settings().embedder_model == str(own_model.resolve())
