"""Speculative decoding on the real tiny model: drafts (by a draft model or by prompt
lookup) never change a greedy reply, also under a grammar."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.llm.llama import LlamaRuntime
from greenpair.core.llm.runtime import Message

pytestmark = pytest.mark.model

CODE = "\n".join(f"def function_{i}(x):\n    return x * {i} + {i * 7}\n" for i in range(30))
MESSAGES = [Message("system", "You rewrite code."),
            Message("user", CODE + "\nRewrite function_3 so that it adds 1 more.")]


def _reply(rt: LlamaRuntime, grammar: str | None = None) -> str:
    return "".join(rt.stream_chat(MESSAGES, max_tokens=60, temperature=0.0, grammar=grammar))


@pytest.mark.parametrize("kind", ["draft", "lookup"])
def test_drafts_do_not_change_a_greedy_reply(tiny_model_path: Path, kind: str) -> None:
    plain = LlamaRuntime(tiny_model_path, n_ctx=2048, n_threads=1, seed=0)
    opts = {"draft_model": tiny_model_path} if kind == "draft" else {"prompt_lookup": 8}
    fast = LlamaRuntime(tiny_model_path, n_ctx=2048, n_threads=1, seed=0, **opts)
    try:
        want = _reply(plain)
        assert _reply(fast) == want
        assert fast.last_stats.completion_tokens == plain.last_stats.completion_tokens
        if kind == "draft":
            assert fast.load().draft_model.drafted > 0
        grammar = 'root ::= "def function_3(x):\\n    return " [^\\n]+ "\\n"'
        assert _reply(fast, grammar) == _reply(plain, grammar)
        assert _reply(fast, grammar).startswith("def function_3(x):\n    return ")
    finally:
        plain.unload()
        fast.unload()
