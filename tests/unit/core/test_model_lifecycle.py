"""The unload rule (idle time, battery) and the tray's memory line, without a model."""

from __future__ import annotations

from types import SimpleNamespace

from greenpair.core.config import DEFAULT_UNLOAD_AFTER_IDLE_S, Settings
from greenpair.core.llm import lifecycle
from greenpair.core.llm.lifecycle import UnloadRule, memory_line
from greenpair.core.llm.manager import unload_options


def test_zero_keeps_the_model() -> None:
    rule = UnloadRule(idle_s=0, on_battery=False)
    assert not rule.active
    assert rule.next_check(0) is None
    assert rule.reason(10_000) is None


def test_idle_time_frees_it_once_reached() -> None:
    rule = UnloadRule(idle_s=600)
    assert rule.next_check(0) == 600
    assert rule.next_check(590) == 10
    assert rule.reason(599.9) is None
    assert rule.reason(600) == "after 10 min idle"


def test_battery_frees_it_only_when_asked_and_unplugged() -> None:
    plugged = [True]
    rule = UnloadRule(idle_s=600, on_battery=True, on_mains=lambda: plugged[0])
    assert rule.next_check(0) == lifecycle.BATTERY_CHECK_S  # looks every minute
    assert rule.reason(5) is None
    plugged[0] = False
    assert rule.reason(5) == "on battery"
    assert UnloadRule(idle_s=600, on_mains=lambda: False).reason(5) is None  # not asked


def test_the_default_unloads_and_every_runtime_gets_the_rule() -> None:
    assert Settings().unload_after_idle_s == DEFAULT_UNLOAD_AFTER_IDLE_S > 0
    assert Settings().unload_on_battery is False
    opts = unload_options(Settings(unload_after_idle_s=0, unload_on_battery=True))
    assert opts == {"unload_after_idle_s": 0.0, "unload_on_battery": True}


def test_memory_line() -> None:
    assert memory_line(None) == "Model unloaded"
    assert memory_line(SimpleNamespace(loaded=False, resident_bytes=None)) == "Model unloaded"
    loaded = SimpleNamespace(loaded=True, resident_bytes=1_900_000_000)
    assert memory_line(loaded) == "Model loaded · 1.9 GB"
    assert memory_line(SimpleNamespace(loaded=True, resident_bytes=None)) == "Model loaded"
    assert memory_line(SimpleNamespace(model_id="remote")) == "Model unloaded"
