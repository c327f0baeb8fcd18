"""The composition root: built once, parts shared, settings changes told, all closed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from greenpair.core.config import Settings, load_settings
from greenpair.core.llm.manager import RuntimeManager
from greenpair.core.services import Embedders, Services
from tests.helpers.fake_runtime import FakeRuntime


class _Vectors:
    name = "fake-space"
    dim = 4

    def embed(self, texts: Any) -> np.ndarray:
        return np.ones((len(texts), 4), dtype=np.float32) / 2


def test_build_reads_the_saved_settings_and_nothing_loads() -> None:
    services = Services.build()
    assert services.settings == load_settings()
    assert services.runtimes.current() is None  # no model until a generation asks
    services.close()


def test_one_runtime_per_settings_and_a_switch_unloads_the_old_one() -> None:
    made: list[FakeRuntime] = []

    def build(settings: Settings, meter: Any) -> FakeRuntime:
        made.append(FakeRuntime(model_id=settings.model))
        return made[-1]

    services = Services(Settings(model="a"), runtimes=RuntimeManager(build=build), persist=False)
    first = services.runtime()
    assert services.runtime() is first
    services.save_settings(Settings(model="b"))
    second = services.runtime()
    assert second is not first
    assert [rt.model_id for rt in made] == ["a", "b"]
    assert first.unload_count == 1  # evicted on the model switch
    services.close()
    assert second.unload_count == 1


def test_saved_settings_reach_the_listeners_and_the_file() -> None:
    services = Services.build()
    seen: list[Settings] = []
    services.on_settings_changed(seen.append)
    changed = services.settings
    changed.eco_mode = True
    services.save_settings(changed)
    assert seen == [changed]
    assert load_settings().eco_mode is True
    services.close()


def test_the_index_of_a_repository_is_opened_once_and_shares_the_embedder(
        tmp_repo: Path) -> None:
    loads: list[tuple[str, int]] = []

    def load(precision: str, max_tokens: int) -> _Vectors:
        loads.append((precision, max_tokens))
        return _Vectors()

    services = Services(Settings(), embedders=Embedders(load), persist=False)
    index = services.index(tmp_repo)
    assert services.index(tmp_repo) is index
    assert index.meter is services.meter
    assert index.embedder() is services.embedder()
    assert len(loads) == 1
    services.close()
    assert services.open_indexes() == []
