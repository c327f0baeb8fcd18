"""Conversation logic with the deterministic FakeRuntime and a fixed retriever."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from greenpair.core.assistant.ask.conversation import (
    Answer,
    AskOptions,
    Conversation,
    Sources,
    Token,
)
from greenpair.core.assistant.ask.streaming import stream_with_stop
from greenpair.core.assistant.retriever import StaticRetriever
from greenpair.core.errors import Cancelled, RepositoryError
from greenpair.core.types import Chunk, ScoredChunk
from tests.helpers.fake_runtime import FakeRuntime, split_pieces

CHUNKS = [
    ScoredChunk(Chunk("src/shop/discounts.py", "python", 4, 10, "def apply_discount"), 0.9),
    ScoredChunk(Chunk("src/shop/cart.py", "python", 12, 21, "def add_item"), 0.5),
]


def _run(conv: Conversation, question: str, **kw: object) -> tuple[str, Answer]:
    events = list(conv.ask(question, **kw))  # type: ignore[arg-type]
    sources, *tokens, answer = events
    assert isinstance(sources, Sources)  # what will be read comes first
    assert list(sources.headers) == answer.context
    assert isinstance(answer, Answer)
    assert all(isinstance(t, Token) for t in tokens)
    return "".join(t.text for t in tokens), answer  # type: ignore[union-attr]


def test_answer_streams_and_checks_citations(tmp_repo: Path, meter: Any) -> None:
    reply = ("HALF halves the total [src/shop/discounts.py:4-8] (not [src/shop/x.py:1-3]).\n"
             "Sources: src/shop/discounts.py:4-8\nQuestion: something the model made up")
    rt = FakeRuntime([reply])
    conv = Conversation(tmp_repo, runtime=rt, index=StaticRetriever(CHUNKS), meter=meter)
    streamed, answer = _run(conv, "What does HALF do?")
    assert streamed.strip() == answer.answer
    assert answer.answer.endswith("Sources: src/shop/discounts.py:4-8")  # stopped early
    assert [c.to_json() for c in answer.citations] == [
        {"path": "src/shop/discounts.py", "start_line": 4, "end_line": 8}]
    assert [str(c) for c in answer.rejected_citations] == ["src/shop/x.py:1-3"]
    assert not answer.citations_fallback
    prompt = rt.prompts[0]
    assert "### src/shop/discounts.py:4-10" in prompt
    assert prompt.index("discounts.py:4-10") < prompt.index("cart.py:12-21")  # rank order
    assert prompt.rstrip().endswith("Question: What does HALF do?\n<assistant>")
    data = answer.to_json()
    for key in ("answer", "citations", "model", "prompt_tokens", "completion_tokens", "ttft_s",
                "tokens_per_s", "energy_j"):
        assert key in data
    assert data["model"] == "fake"
    assert data["energy_j"] is not None
    assert data["prompt_tokens_saved"] == answer.prompt_tokens_saved


def test_fallback_citations_when_none_valid(tmp_repo: Path) -> None:
    rt = FakeRuntime(["It is somewhere in [lib/invented.py:3-4]."])
    conv = Conversation(tmp_repo, runtime=rt, index=StaticRetriever(CHUNKS),
                        options=AskOptions(fallback_citations=1))
    _, answer = _run(conv, "Where are discounts?")
    assert answer.citations_fallback
    assert [str(c) for c in answer.citations] == ["src/shop/discounts.py:4-10"]
    assert [str(c) for c in answer.rejected_citations] == ["lib/invented.py:3-4"]


def test_followup_keeps_the_prefix_and_adds_only_new_snippets(tmp_repo: Path) -> None:
    rt = FakeRuntime(["First [src/shop/discounts.py:4-10].", "Second [src/shop/cart.py:1-3]."])
    retriever = StaticRetriever(CHUNKS[:1])
    conv = Conversation(tmp_repo, runtime=rt, index=retriever)
    _run(conv, "q1")
    retriever.chunks = [*CHUNKS[:1], ScoredChunk(Chunk("src/shop/cart.py", "python", 1, 3,
                                                       "x"), 0.4)]
    _, answer = _run(conv, "q2")
    first, second = rt.prompts
    assert second.startswith(first)  # unchanged prefix: the KV cache covers it
    tail = second[len(first):]
    assert "First [src/shop/discounts.py:4-10]." in tail
    assert "### src/shop/cart.py:1-3" in tail
    assert "discounts.py:4-10" not in tail.split("More code snippets")[1]  # not repeated
    assert rt.last_stats.cached_prompt_tokens > 0
    assert [str(c) for c in answer.citations] == ["src/shop/cart.py:1-3"]


def test_naive_options_send_whole_chunks_and_never_stop_early(tmp_repo: Path) -> None:
    reply = "Answer.\nSources: src/shop/cart.py:12-21\nQuestion: more"
    rt = FakeRuntime([reply])
    conv = Conversation(tmp_repo, runtime=rt, index=StaticRetriever(CHUNKS),
                        options=AskOptions.naive())
    _, answer = _run(conv, "q")
    assert answer.answer.endswith("Question: more")
    assert "def apply_discount" in rt.prompts[0]  # the indexed chunk text, whole
    assert answer.prompt_tokens_saved == 0


def test_cancel_before_start_and_bad_repo(tmp_repo: Path, tmp_path: Path) -> None:
    conv = Conversation(tmp_repo, runtime=FakeRuntime(["x"]), index=StaticRetriever(CHUNKS))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        list(conv.ask("q", cancel=cancel))
    with pytest.raises(RepositoryError):
        Conversation(tmp_path / "missing", runtime=FakeRuntime(), index=StaticRetriever(CHUNKS))


def test_cancel_midway_gives_a_partial_answer(tmp_repo: Path) -> None:
    rt = FakeRuntime(["one two three four five six"], token_delay_s=0.001)
    conv = Conversation(tmp_repo, runtime=rt, index=StaticRetriever(CHUNKS))
    cancel = threading.Event()
    events = []
    for event in conv.ask("q", cancel=cancel):
        events.append(event)
        if len(events) == 3:  # Sources, then two tokens
            cancel.set()
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert answer.answer == "one two"
    assert answer.stop_reason == "cancelled"


def test_stream_with_stop_cuts_the_piece_at_the_end() -> None:
    pieces = split_pieces("Yes.\nSources: a.py:1-2\nExtra words")
    assert "".join(stream_with_stop(iter(pieces))) == "Yes.\nSources: a.py:1-2"
    assert "".join(stream_with_stop(iter(pieces), early_stop=False)).endswith("Extra words")


def test_an_abandoned_turn_leaves_no_history(tmp_repo: Path) -> None:
    rt = FakeRuntime(["one two three four", "Fine [src/shop/discounts.py:4-10]."])
    conv = Conversation(tmp_repo, runtime=rt, index=StaticRetriever(CHUNKS))
    stream = conv.ask("q1")
    next(stream)  # Sources
    next(stream)  # the first token
    stream.close()  # the user closed the chat mid-answer
    _, answer = _run(conv, "q2")
    assert "### src/shop/discounts.py:4-10" in rt.prompts[1]  # context shown again
    assert "q1" not in rt.prompts[1]
    assert answer.citations[0].path == "src/shop/discounts.py"


def test_savings_reach_the_energy_ledger(tmp_repo: Path, meter: Any) -> None:
    rt = FakeRuntime(["Halves it [src/shop/discounts.py:4-8]."])
    conv = Conversation(tmp_repo, runtime=rt, index=StaticRetriever(CHUNKS),
                        options=AskOptions(context_tokens=20), meter=meter)
    _, answer = _run(conv, "What does HALF do?")
    assert answer.prompt_tokens_saved > 0
    savings = meter.ledger().totals().savings
    assert savings["prompt_tokens_saved"].tokens >= answer.prompt_tokens_saved


def test_named_definition_is_cited_and_context_for_generates_nothing(tmp_repo: Path) -> None:
    rt = FakeRuntime(["The `apply_discount` function halves the total for HALF."])
    conv = Conversation(tmp_repo, runtime=rt, index=StaticRetriever(CHUNKS))
    preview = conv.context_for("What does HALF do?")
    assert [s.header for s in preview.snippets] == ["src/shop/discounts.py:4-10",
                                                    "src/shop/cart.py:12-21"]
    assert rt.prompts == []
    assert conv.messages == []
    _, answer = _run(conv, "What does HALF do?")
    assert not answer.citations_fallback
    assert answer.mention_citations == 1
    assert [str(c) for c in answer.citations] == ["src/shop/discounts.py:4-10"]
