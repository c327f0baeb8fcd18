"""The meter is a service passed in: answers, suggestions and index runs use the one given."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from greenpair.core.assistant.ask.conversation import Answer, Conversation
from greenpair.core.assistant.retriever import StaticRetriever
from greenpair.core.assistant.suggest.suggestion import suggest
from greenpair.core.energy.meter import EnergyWindow
from greenpair.core.energy.meter_protocol import EnergyMeter
from greenpair.core.energy.report import EnergyReport
from greenpair.core.index import open_index
from greenpair.core.types import Chunk, ScoredChunk
from tests.helpers.fake_runtime import FakeRuntime


class RecordingMeter:
    """A meter that records what was measured (our own logic under test is the wiring)."""

    def __init__(self) -> None:
        self.windows: list[tuple[str, dict[str, Any]]] = []
        self.savings: list[str] = []

    @contextmanager
    def window(self, kind: str, *, record: bool = True, **meta: Any) -> Iterator[EnergyWindow]:
        win = EnergyWindow(kind=kind, meta=dict(meta))
        yield win
        win.report = EnergyReport(kind=kind, duration_s=0.0, joules=1.5, sensor="test",
                                  estimated=False, tokens=win.tokens)
        self.windows.append((kind, win.meta))

    def record_saving(self, name: str, *, count: float = 1, tokens: int = 0,
                      joules: float | None = None) -> None:
        self.savings.append(name)


CHUNK = Chunk("src/shop/cart.py", "python", 1, 5, "def total_price(self):\n    return 1\n",
              "function", "total_price")


def test_the_given_meter_measures_answers_and_suggestions(tmp_repo: Path) -> None:
    meter = RecordingMeter()
    assert isinstance(meter, EnergyMeter)
    conv = Conversation(tmp_repo, runtime=FakeRuntime(["It sums. Sources: src/shop/cart.py:1-5"]),
                        index=StaticRetriever([ScoredChunk(CHUNK, 1.0)]), meter=meter)
    answer = list(conv.ask("How is the total computed?"))[-1]
    assert isinstance(answer, Answer)
    assert answer.energy is not None
    assert answer.energy.joules == 1.5
    text = "".join(suggest("def add(a, b):\n    ", "complete", runtime=FakeRuntime(["return a + b\n"]),
                           meter=meter))
    assert text
    assert [k for k, _ in meter.windows] == ["answer", "suggestion"]


def test_an_index_run_is_measured_by_the_meter_it_was_given(tmp_repo: Path) -> None:
    meter = RecordingMeter()
    index = open_index(tmp_repo, meter=meter)
    try:
        for _ in index.update(embed=False):
            pass
    finally:
        index.close()
    assert meter.windows == [("index", {"repo": str(tmp_repo.resolve())})]
