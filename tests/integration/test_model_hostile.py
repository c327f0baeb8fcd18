"""A model file deleted, or replaced by a truncated one, while it is loaded (issue 11,
item 3), on the real small GGUF: generation keeps working on what is in memory, and the
next load says what happened and how to fix it. Missing, truncated and non-GGUF files at
load time are covered in ``test_runtime_llama.py``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from greenpair.core.errors import ModelError
from greenpair.core.llm.llama import LlamaRuntime
from greenpair.core.llm.runtime import Message

pytestmark = pytest.mark.model

HELLO = [Message("user", "Say hello.")]


def test_deleted_then_truncated_while_loaded(tmp_path: Path, tiny_model_path: Path) -> None:
    copy = tmp_path / "copy.gguf"
    shutil.copyfile(tiny_model_path, copy)
    runtime = LlamaRuntime(copy, n_ctx=256, n_threads=1, seed=0)
    try:
        assert "".join(runtime.stream_chat(HELLO, max_tokens=4))
        copy.unlink()  # deleted under the loaded model: its pages stay mapped
        assert "".join(runtime.stream_chat(HELLO, max_tokens=4))
        runtime.unload()
        with pytest.raises(ModelError, match=r"copy\.gguf does not exist"):
            "".join(runtime.stream_chat(HELLO, max_tokens=4))
        with open(tiny_model_path, "rb") as src:  # put back cut short
            copy.write_bytes(src.read(3_000_000))
        with pytest.raises(ModelError, match=r"could not load .*copy\.gguf") as info:
            "".join(runtime.stream_chat(HELLO, max_tokens=4))
        assert info.value.hint
    finally:
        runtime.unload()
