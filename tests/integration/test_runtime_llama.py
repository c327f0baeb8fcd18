"""The llama.cpp runtime on real GGUF models: the tiny one for plumbing, the default for FIM."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.config import Settings
from greenpair.core.errors import ModelError
from greenpair.core.llm import manager
from greenpair.core.llm.llama import LlamaRuntime
from greenpair.core.llm.runtime import Message, Runtime

pytestmark = pytest.mark.model

SYSTEM = Message("system", "You are a helpful assistant. Here is some code:\n" + "\n".join(
    f"def function_{i}(x):\n    return x * {i} + {i * 7}\n" for i in range(24)
))


@pytest.fixture(scope="module")
def tiny(tiny_model_path: Path) -> Iterator[LlamaRuntime]:
    rt = LlamaRuntime(tiny_model_path, n_ctx=2048, n_threads=1, seed=0)
    yield rt
    rt.unload()


def test_streams_pieces_and_fills_stats(tiny: LlamaRuntime) -> None:
    assert isinstance(tiny, Runtime)
    pieces = list(tiny.stream_chat([Message("user", "Count from one to twenty.")],
                                   max_tokens=12, temperature=0.0))
    stats = tiny.last_stats
    assert len(pieces) >= 3
    assert "".join(pieces).strip()
    assert stats.completion_tokens <= 12
    assert stats.prompt_tokens > 5
    assert stats.stop_reason in {"stop", "length"}
    assert 0 < stats.ttft_s <= stats.duration_s


def test_cancel_between_tokens_and_the_model_stays_usable(tiny: LlamaRuntime) -> None:
    cancel = threading.Event()
    got = []
    for piece in tiny.stream_chat([Message("user", "Write a long story about a cat.")],
                                  max_tokens=200, cancel=cancel):
        got.append(piece)
        if len(got) == 3:
            cancel.set()
    assert len(got) == 3
    assert tiny.last_stats.stop_reason == "cancelled"
    assert tiny.last_stats.completion_tokens <= 4
    # Abandoning a stream (closing it) also stops it and frees the model for the next call.
    stream = tiny.stream_completion("Once upon a time", max_tokens=100)
    next(stream)
    stream.close()
    assert tiny.last_stats.stop_reason == "cancelled"
    assert list(tiny.stream_completion("Hello", max_tokens=3))


def test_an_abandoned_stream_in_the_same_thread_does_not_deadlock(tiny: LlamaRuntime) -> None:
    first = tiny.stream_completion("The sky is", max_tokens=50)
    next(first)
    second = "".join(tiny.stream_completion("Grass is", max_tokens=3))  # first is still open
    assert second
    assert list(first) == []  # it was closed by the new request


def test_follow_up_reuses_the_shared_prefix_from_the_kv_cache(tiny: LlamaRuntime) -> None:
    tiny.forget_cache()
    q1 = [SYSTEM, Message("user", "What does function_3 return?")]
    answer = "".join(tiny.stream_chat(q1, max_tokens=8, temperature=0.0))
    cold = tiny.last_stats
    assert cold.cached_prompt_tokens == 0
    q2 = [*q1, Message("assistant", answer), Message("user", "And function_5?")]
    list(tiny.stream_chat(q2, max_tokens=4, temperature=0.0))
    warm = tiny.last_stats
    assert cold.prompt_tokens > 300
    assert warm.cached_prompt_tokens >= cold.prompt_tokens - 2  # system + first question reused
    assert warm.prompt_tokens - warm.cached_prompt_tokens < 40  # only the new turn evaluated


def test_stop_strings_are_cut(tiny: LlamaRuntime) -> None:
    text = "".join(tiny.stream_completion("1, 2, 3, 4, 5, 6, 7,", max_tokens=30,
                                          temperature=0.0, stop=["10"]))
    assert "10" not in text
    assert tiny.last_stats.stop_reason == "stop"


def test_count_tokens_and_fim_refusal_without_fim_tokens(tiny: LlamaRuntime) -> None:
    assert 1 <= tiny.count_tokens("hello world") <= 4
    assert tiny.count_tokens("def f(x):\n    return x\n" * 10) > 40
    with pytest.raises(ModelError, match="fill-in-the-middle"):
        tiny.fim_prompt("def f(", ")")


def test_one_generation_at_a_time_across_threads(tiny: LlamaRuntime) -> None:
    events: list[tuple[str, str]] = []
    started = threading.Event()

    def run(name: str) -> None:
        for i, _ in enumerate(tiny.stream_completion("Numbers: 1, 2, 3,", max_tokens=15)):
            if i == 0:
                events.append((name, "first"))
                started.set()
        events.append((name, "end"))

    a = threading.Thread(target=run, args=("a",))
    a.start()
    assert started.wait(30)
    b = threading.Thread(target=run, args=("b",))
    b.start()
    a.join(60)
    b.join(60)
    assert events.index(("a", "end")) < events.index(("b", "first"))


def test_unload_after_idle_uses_a_timer(tiny_model_path: Path) -> None:
    rt = LlamaRuntime(tiny_model_path, n_ctx=512, n_threads=1, unload_after_idle_s=0.05)
    assert not rt.loaded  # lazy
    list(rt.stream_completion("Hi", max_tokens=2))
    timer = rt._idle_timer
    assert timer is not None
    timer.join(10)
    assert not rt.loaded
    assert list(rt.stream_completion("Hi", max_tokens=2))  # loads again on demand
    rt.unload()


def test_shared_runtime_is_lazy_and_one_per_settings(tiny_model_path: Path) -> None:
    settings = Settings(model=str(tiny_model_path), threads=1)
    runtimes = manager.RuntimeManager()
    try:
        rt = runtimes.get(settings)
        assert runtimes.get(settings) is rt
        assert isinstance(rt, LlamaRuntime)
        assert not rt.loaded
        assert rt.n_threads == 1
        other = runtimes.get(Settings(model=str(tiny_model_path), threads=2))
        assert other is not rt
        assert runtimes.current() is other
    finally:
        runtimes.release()
    assert runtimes.current() is None


def test_missing_truncated_and_corrupt_model_files(tmp_path: Path, tiny_model_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    monkeypatch.setenv("GREENPAIR_HOME", str(home))
    with pytest.raises(ModelError, match="does not exist") as info:
        LlamaRuntime("smollm2-135m").load()
    assert "greenpair models pull smollm2-135m" in (info.value.hint or "")
    with open(tiny_model_path, "rb") as src:
        head = src.read(2_000_000)
    (home / "models" / "smollm2-135m.gguf").write_bytes(head)
    with pytest.raises(ModelError, match="truncated") as info:
        LlamaRuntime("smollm2-135m").load()
    assert "greenpair models pull smollm2-135m" in (info.value.hint or "")
    # A local file with a valid header but cut short: llama.cpp refuses it, we name it.
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(head)
    with pytest.raises(ModelError, match=r"could not load .*cut\.gguf"):
        LlamaRuntime(cut).load()
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(ModelError, match="not a GGUF model file"):
        LlamaRuntime(junk).load()
    copy = tmp_path / "copy.gguf"
    shutil.copyfile(tiny_model_path, copy)
    assert LlamaRuntime(copy, n_ctx=256, n_threads=1).count_tokens("ok") >= 1


@pytest.mark.default_model
def test_default_model_fills_in_the_middle(default_model_path: Path) -> None:
    rt = LlamaRuntime(default_model_path, n_ctx=1024, seed=0)
    try:
        prompt = rt.fim_prompt("def area_of_circle(radius):\n    return ", "\n\n\nprint(area_of_circle(2))\n")
        assert prompt.startswith("<|fim_prefix|>")
        middle = "".join(rt.stream_completion(prompt, max_tokens=16, temperature=0.0))
        assert "radius" in middle
        assert "<|" not in middle  # special tokens are not shown
    finally:
        rt.unload()


def test_prompt_lookup_decoding_gives_the_same_greedy_text(tiny_model_path: Path) -> None:
    code = "".join(f"value_{i} = compute({i}, scale=2)\n" for i in range(48))  # > n_batch tokens
    prompt = f"Copy this code exactly:\n{code}\nCopy:\n{code[:200]}"
    plain = LlamaRuntime(tiny_model_path, n_ctx=1024, n_threads=1)
    lookup = LlamaRuntime(tiny_model_path, n_ctx=1024, n_threads=1, prompt_lookup=4)
    try:
        want = "".join(plain.stream_completion(prompt, max_tokens=12))
        got = "".join(lookup.stream_completion(prompt, max_tokens=12))
        assert lookup.last_stats.prompt_tokens > 512
        assert got == want
    finally:
        plain.unload()
        lookup.unload()


def test_a_request_after_the_idle_unload_loads_the_model_and_says_so(
        tiny_model_path: Path) -> None:
    from greenpair.core import messages

    said: list[str] = []
    listener = lambda level, text: said.append(text)  # noqa: E731
    messages.connect(listener)
    rt = LlamaRuntime(tiny_model_path, n_ctx=512, n_threads=1, unload_after_idle_s=0.05)
    try:
        list(rt.stream_completion("Hi", max_tokens=2))
        assert rt.last_stats.load_s > 0  # the first use loads it (inside the first token)
        assert rt.last_stats.ttft_s >= rt.last_stats.load_s
        assert rt.resident_bytes is not None
        assert rt.resident_bytes > 50_000_000  # the 98 MB model, measured at first use
        timer = rt._idle_timer
        assert timer is not None
        timer.join(10)
        assert not rt.loaded
        assert rt.unloaded_because == "after 0.05 s idle"
        assert not said
        list(rt.stream_completion("Hi", max_tokens=2))
        assert rt.last_stats.load_s > 0
        assert said == [f"Loading {rt.model_id} again (it was unloaded after 0.05 s idle)…"]
        list(rt.stream_completion("Hi", max_tokens=2))
        assert rt.last_stats.load_s == 0  # warm
    finally:
        messages.disconnect(listener)
        rt.unload()


def test_on_battery_the_idle_model_leaves_memory(tiny_model_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from greenpair.core.llm import lifecycle

    monkeypatch.setattr(lifecycle, "BATTERY_CHECK_S", 0.05)
    rt = LlamaRuntime(tiny_model_path, n_ctx=512, n_threads=1, unload_after_idle_s=3600,
                      unload_on_battery=True)
    plugged = threading.Event()
    plugged.set()
    rt.unload_rule.on_mains = plugged.is_set
    try:
        list(rt.stream_completion("Hi", max_tokens=2))
        first = rt._idle_timer
        assert first is not None
        first.join(10)  # on mains: looked, kept, and will look again
        assert rt.loaded
        again = rt._idle_timer
        assert again is not None
        assert again is not first
        plugged.clear()  # unplugged
        again.join(10)
        assert not rt.loaded
        assert rt.unloaded_because == "on battery"
    finally:
        rt.unload()


def test_a_model_switch_evicts_the_old_model(tiny_model_path: Path) -> None:
    runtimes = manager.RuntimeManager()
    first = runtimes.get(Settings(model=str(tiny_model_path), threads=1))
    list(first.stream_completion("Hi", max_tokens=2))
    assert first.loaded
    second = runtimes.get(Settings(model=str(tiny_model_path), threads=1,
                                   unload_after_idle_s=60))
    assert second is not first
    assert not first.loaded
    runtimes.release()
