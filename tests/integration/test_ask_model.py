"""ask/chat on real components: tmp_repo indexed for real, real GGUF models.

The tiny model checks plumbing (streaming, cancel, the JSON contract, cache reuse); the
default model checks behaviour in one short test (an answer cites a real file).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from greenpair.cli import cli
from greenpair.core.assistant.ask.conversation import Answer, AskOptions, Conversation, Token
from greenpair.core.index import open_index
from greenpair.core.llm.manager import open_runtime
from greenpair.core.llm.runtime import Runtime
from tests.helpers.tiny_runtime import repeatable_runtime

pytestmark = pytest.mark.model

QUESTION = "How is the total price of the cart computed?"


@pytest.fixture(scope="module")
def tiny(tiny_model_path: Path) -> Iterator[Runtime]:
    rt = repeatable_runtime(tiny_model_path, n_ctx=4096)
    yield rt
    rt.unload()


@pytest.fixture
def index(tmp_repo: Path) -> Iterator[Any]:
    """tmp_repo's real index (what an entry point's services open for a question)."""
    opened = open_index(tmp_repo)
    yield opened
    opened.close()


def _answer(events: list[object]) -> Answer:
    assert isinstance(events[-1], Answer)
    return events[-1]


def test_streams_tokens_then_a_checked_answer(tmp_repo: Path, tiny: Runtime, index: Any) -> None:
    conv = Conversation(tmp_repo, runtime=tiny, index=index, options=AskOptions(max_tokens=24))
    events = list(conv.ask(QUESTION))
    tokens = [e for e in events if isinstance(e, Token)]
    answer = _answer(events)
    assert len(tokens) >= 3
    assert "".join(t.text for t in tokens).strip() == answer.answer
    assert answer.completion_tokens <= 24
    assert answer.prompt_tokens > answer.context_tokens > 0
    assert "src/shop/cart.py" in {h.split(":")[0] for h in answer.context}  # real retrieval
    assert answer.citations  # the model's own, or the fallback
    shown = {h.split(":")[0] for h in answer.context}
    assert all(c.valid and c.path in shown for c in answer.citations)


def test_cancel_stops_between_tokens(tmp_repo: Path, tiny: Runtime, index: Any) -> None:
    conv = Conversation(tmp_repo, runtime=tiny, index=index, options=AskOptions(max_tokens=64,
                                                                   early_stop=False))
    cancel = threading.Event()
    events = []
    for event in conv.ask("Write a long story about the cart.", cancel=cancel):
        events.append(event)
        if len(events) == 3:  # Sources, then two tokens
            cancel.set()
    answer = _answer(events)
    assert answer.stop_reason == "cancelled"
    assert answer.completion_tokens <= 3


def test_followup_reuses_the_cached_prefix(tmp_repo: Path, tiny: Runtime, index: Any) -> None:
    conv = Conversation(tmp_repo, runtime=tiny, index=index, options=AskOptions(max_tokens=12))
    first = _answer(list(conv.ask(QUESTION)))
    second = _answer(list(conv.ask("And what does HALF do?")))
    assert second.cached_prompt_tokens >= first.prompt_tokens  # nothing re-processed
    assert second.prompt_tokens > first.prompt_tokens


def test_ask_json_contract(tmp_repo: Path, tiny_model_path: Path) -> None:
    result = CliRunner().invoke(cli, ["ask", "--repo", str(tmp_repo), "--json", "--model",
                                      str(tiny_model_path), QUESTION])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"answer", "citations", "model", "prompt_tokens", "completion_tokens",
                         "ttft_s", "tokens_per_s", "energy_j"}
    assert data["model"] == tiny_model_path.name
    assert data["prompt_tokens"] > 0
    assert data["energy_j"] is not None
    for c in data["citations"]:
        assert set(c) == {"path", "start_line", "end_line"}
        assert (tmp_repo / c["path"]).is_file()


def test_default_model_cites_the_real_file(tmp_repo: Path, default_model_path: Path) -> None:
    rt = open_runtime(default_model_path, n_ctx=4096, seed=0)
    try:
        index = open_index(tmp_repo)
        conv = Conversation(tmp_repo, runtime=rt, index=index,
                            options=AskOptions(max_tokens=120))
        answer = _answer(list(conv.ask(QUESTION)))
    finally:
        rt.unload()
    assert not answer.citations_fallback, answer.answer  # the model cited by itself
    cart = [c for c in answer.citations if c.path == "src/shop/cart.py"]
    assert cart, answer.answer
    assert any(c.start_line <= 21 and c.end_line >= 18 for c in cart)  # total_price's lines
    assert "price" in answer.answer.lower()


def test_naive_options_drop_the_kv_cache(tmp_repo: Path, tiny: Runtime, index: Any) -> None:
    conv = Conversation(tmp_repo, runtime=tiny, index=index, options=AskOptions.naive())
    conv.options.max_tokens = 4
    list(conv.ask(QUESTION))
    again = Conversation(tmp_repo, runtime=tiny, index=index, options=conv.options)
    answer = _answer(list(again.ask(QUESTION)))
    assert answer.cached_prompt_tokens == 0  # the same prompt, evaluated again in full
