"""The deterministic FakeRuntime and the stop-string filter shared by the backends."""

from __future__ import annotations

import threading

import pytest

from greenpair.core.errors import ModelError
from greenpair.core.llm.runtime import Message, Runtime
from greenpair.core.llm.textstream import StopFilter
from tests.helpers.fake_runtime import FakeRuntime


def test_fake_streams_queued_replies_in_pieces_and_counts_words() -> None:
    rt = FakeRuntime(["The answer is 42.", "Second reply"])
    assert isinstance(rt, Runtime)
    pieces = list(rt.stream_chat([Message("user", "what is it?")]))
    assert pieces == ["The", " answer", " is", " 42."]
    assert rt.last_stats.completion_tokens == 4
    assert rt.last_stats.stop_reason == "stop"
    assert "".join(rt.stream_completion("go")) == "Second reply"
    assert rt.count_tokens("a  b\nc") == 3
    assert rt.prompts[1] == "go"


def test_fake_honours_max_tokens_stop_and_cancel() -> None:
    rt = FakeRuntime(["one two three four", "alpha END beta", "x y z"])
    assert "".join(rt.stream_completion("p", max_tokens=2)) == "one two"
    assert rt.last_stats.stop_reason == "length"
    assert "".join(rt.stream_completion("p", stop=["END"])) == "alpha "
    cancel = threading.Event()
    stream = rt.stream_completion("p", cancel=cancel)
    assert next(stream) == "x"
    cancel.set()
    assert list(stream) == []
    assert rt.last_stats.stop_reason == "cancelled"


def test_fake_reports_the_reused_prompt_prefix() -> None:
    rt = FakeRuntime(["a", "b"])
    system = Message("system", "You are helpful. " * 10)
    list(rt.stream_chat([system, Message("user", "first question")]))
    assert rt.last_stats.cached_prompt_tokens == 0
    list(rt.stream_chat([system, Message("user", "second question")]))
    assert rt.last_stats.cached_prompt_tokens >= 30
    assert rt.last_stats.prompt_tokens > rt.last_stats.cached_prompt_tokens


def test_fake_closing_the_generator_marks_it_cancelled() -> None:
    rt = FakeRuntime(["a b c d"])
    stream = rt.stream_chat([Message("user", "q")])
    next(stream)
    stream.close()
    assert rt.last_stats.stop_reason == "cancelled"
    assert rt.last_stats.completion_tokens == 1


def test_fake_errors_like_a_model() -> None:
    rt = FakeRuntime([], default_reply=None, n_ctx=5, fim=False)
    with pytest.raises(ModelError, match="no reply queued"):
        rt.stream_completion("p")
    with pytest.raises(ModelError, match="holds 5"):
        rt.stream_completion("one two three four five six")
    with pytest.raises(ModelError, match="fill-in-the-middle"):
        rt.fim_prompt("a", "b")
    assert FakeRuntime().fim_prompt("a", "b") == "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>"


def test_stop_filter_never_shows_part_of_a_stop_string() -> None:
    f = StopFilter(["</answer>", "###"])
    shown = [f.feed(t) for t in ["Hello ", "wor", "ld </", "ans", "wer> after"]]
    assert "".join(shown) == "Hello world "
    assert f.stopped
    g = StopFilter(["###"])
    assert [g.feed(t) for t in ["a #", "# b", "#"]] == ["a ", "## b", ""]
    assert g.flush() == "#"


def test_stop_filter_joins_utf8_split_across_tokens() -> None:
    f = StopFilter()
    assert [f.feed_bytes(b) for b in [b"caf\xc3", b"\xa9 \xe2\x82", b"\xac"]] == ["caf", "é ", "€"]
