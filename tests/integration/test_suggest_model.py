"""suggest on a real GGUF: the tiny model for plumbing, the default one for a FIM completion."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.assistant.suggest import suggestion as sg
from greenpair.core.llm.manager import open_runtime
from greenpair.core.llm.runtime import Runtime
from tests.helpers.tiny_runtime import repeatable_runtime

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def tiny(tiny_model_path: Path) -> Iterator[Runtime]:
    rt = repeatable_runtime(tiny_model_path, n_ctx=2048)
    yield rt
    rt.unload()


def test_streams_explanations_and_counts(tiny: Runtime) -> None:
    counts = sg.SuggestionCounts()
    pieces = list(sg.suggest("for i in range(10):\n    print(i * i)\n", "explain",
                             runtime=tiny, max_tokens=16, counts=counts))
    assert len(pieces) >= 2
    assert tiny.last_stats.completion_tokens <= 16
    assert list(sg.suggest("  \n", runtime=tiny, counts=counts)) == []
    assert counts.stats()["generated"] == {"explain": 1}
    assert counts.stats()["avoided"] == {"empty": 1}


def test_cancel_stops_a_suggestion(tiny: Runtime) -> None:
    cancel = threading.Event()
    got = []
    for piece in sg.suggest("Tell me about sorting algorithms in detail.", "explain",
                            runtime=tiny, cancel=cancel, max_tokens=100):
        got.append(piece)
        cancel.set()
    assert len(got) == 1
    assert tiny.last_stats.stop_reason == "cancelled"


def test_default_model_fills_the_middle_and_stops_at_the_statement(
    default_model_path: Path,
) -> None:
    rt = open_runtime(default_model_path, n_ctx=2048, seed=0)
    try:
        text = "def is_even(n):\n    return n % 2<|cursor|>\n\nprint(is_even(4))\n"
        out = "".join(sg.suggest(text, runtime=rt, max_tokens=24))
    finally:
        rt.unload()
    assert "== 0" in out
    assert "print" not in out  # stopped before re-writing the suffix
    assert out.count("\n") <= 1
