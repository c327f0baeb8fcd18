"""The chat's model switch: a model that does not fit is refused with a clear message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from greenpair.core.config import ECO_MODEL, TINY_MODEL, load_settings
from tests.helpers.fake_runtime import FakeRuntime


def test_switching_models_and_a_model_that_does_not_fit(qtbot: Any, make_window: Any,
                                                        tiny_model_path: Path) -> None:
    window = make_window(runtime=FakeRuntime(), model=TINY_MODEL)
    switch = window.model_switch
    assert switch.current().id == TINY_MODEL
    assert "GB RAM" in switch.detail.text()

    # Not enough memory: refused, the banner says why, the model in use stays.
    switch.free_gb = lambda: 0.1
    eco = next(c for c in switch.choices if c.id == ECO_MODEL)
    if eco.installed:
        assert not switch.choose(ECO_MODEL)
        assert "does not fit in memory" in window.banner.text()
    else:
        assert not switch.choose(ECO_MODEL)
        assert "not on this computer" in window.banner.text()
    assert switch.current().id == TINY_MODEL
    assert window.settings.model == TINY_MODEL

    # A model that fits: used from now on and saved.
    window.settings.model = ECO_MODEL if eco.installed else "other"
    switch.set_settings(window.settings)
    switch.free_gb = lambda: 64.0
    assert switch.choose(TINY_MODEL)
    assert window.settings.model == TINY_MODEL
    assert load_settings().model == TINY_MODEL
    assert "Answers now come from" in window.status_label.text()
