"""Speed levers of the llama runtime on the real tiny model: loops are cut off and counted
as avoided work; the thread policy's choice reaches the llama.cpp context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.energy.meter import Meter
from greenpair.core.llm.llama import LlamaRuntime
from greenpair.core.llm.threads import CpuSample, ThreadPolicy

pytestmark = pytest.mark.model

LOOPING = "The function returns a list of names. The function returns a list of names."


class _Clock:
    def __init__(self, other: float) -> None:
        self.t = 0.0
        self.other = other

    def sample(self) -> CpuSample:
        self.t += 1.0
        return CpuSample(self.t, self.other * self.t, 0.0)


@pytest.fixture(scope="module")
def tiny(tiny_model_path: Path) -> Iterator[LlamaRuntime]:
    meter = Meter()
    rt = LlamaRuntime(tiny_model_path, n_ctx=1024, n_threads=1, seed=0, meter=meter)
    yield rt
    rt.unload()
    meter.close()


def test_a_looping_reply_stops_and_the_saved_tokens_are_counted(tiny: LlamaRuntime) -> None:
    text = "".join(tiny.stream_completion(LOOPING, max_tokens=200, temperature=0.0))
    stats = tiny.last_stats
    assert stats.stop_reason == "repetition"
    assert stats.completion_tokens < 80
    assert stats.repetition_saved_tokens == 200 - stats.completion_tokens
    assert text.count("returns a list of names") >= 3
    assert tiny.meter is not None
    saved = tiny.meter.ledger().totals().savings["repetition_tokens_saved"]
    assert saved.tokens == stats.repetition_saved_tokens


def test_an_ordinary_reply_is_not_cut(tiny: LlamaRuntime) -> None:
    list(tiny.stream_completion("def add(a, b):\n    \"\"\"Add two numbers.", max_tokens=40,
                                temperature=0.0))
    assert tiny.last_stats.stop_reason in {"stop", "length"}


@pytest.mark.parametrize(("other", "want"), [(0.0, 2), (1.5, 1)])
def test_the_chosen_thread_count_reaches_the_context(tiny_model_path: Path, other: float,
                                                     want: int) -> None:
    import llama_cpp

    policy = ThreadPolicy(2, sample=_Clock(other).sample, mains=lambda: True,
                          sleep=lambda s: None)
    rt = LlamaRuntime(tiny_model_path, n_ctx=512, thread_policy=policy, seed=0)
    try:
        list(rt.stream_completion("Hello", max_tokens=2))
        assert rt.last_stats.threads == want
        assert llama_cpp.llama_n_threads(rt.load()._ctx.ctx) == want
        assert llama_cpp.llama_n_threads_batch(rt.load()._ctx.ctx) == want
    finally:
        rt.unload()
