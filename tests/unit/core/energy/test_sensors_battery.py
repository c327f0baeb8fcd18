"""Linux battery reader and on_battery on recorded power_supply trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.config import Settings
from greenpair.core.energy import on_battery, should_pause_indexing
from greenpair.core.energy.sensors.base import EnergyCounter, SensorUnavailable
from greenpair.core.energy.sensors.battery import BatterySensor

DATA = Path(__file__).parents[3] / "data" / "sysfs" / "power_supply"


def test_discharging_power_now() -> None:
    sensor = BatterySensor(DATA / "discharging")
    assert sensor.kind == "power"
    assert sensor.read() == pytest.approx(12.345)


def test_discharging_current_times_voltage() -> None:
    assert BatterySensor(DATA / "discharging_current").read() == pytest.approx(1.25 * 12.0)


@pytest.mark.parametrize("tree", ["charging", "full"])
def test_charging_or_full_is_not_a_sensor(tree: str) -> None:
    with pytest.raises(SensorUnavailable, match="only while discharging"):
        BatterySensor(DATA / tree)


def test_missing_files() -> None:
    with pytest.raises(SensorUnavailable, match="neither power_now nor current_now"):
        BatterySensor(DATA / "missing_files")


def test_peripheral_battery_and_no_battery(tmp_path: Path) -> None:
    with pytest.raises(SensorUnavailable, match="no battery"):
        BatterySensor(DATA / "desktop_ups")  # a mouse battery (scope Device) is not ours
    with pytest.raises(SensorUnavailable, match="no battery"):
        BatterySensor(tmp_path)


def test_power_is_integrated_between_samples(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "ps"
    shutil.copytree(DATA / "discharging", root)
    now = [0.0]
    counter = EnergyCounter(BatterySensor(root), clock=lambda: now[0])
    assert counter.joules() == 0.0
    now[0] = 2.0
    (root / "BAT0" / "power_now").write_text("20345000")  # 12.345 W -> 20.345 W
    assert counter.joules() == pytest.approx((12.345 + 20.345) / 2 * 2.0)
    (root / "BAT0" / "status").write_text("Charging")
    with pytest.raises(SensorUnavailable):
        counter.joules()


def test_on_battery() -> None:
    assert on_battery(DATA / "discharging")
    assert on_battery(DATA / "discharging_current")
    assert not on_battery(DATA / "charging")
    assert not on_battery(DATA / "full")
    assert not on_battery(DATA / "desktop_ups")
    assert not on_battery(DATA / "does-not-exist")


def test_indexing_pauses_on_battery_only_when_asked() -> None:
    assert should_pause_indexing(Settings(), DATA / "discharging")
    assert not should_pause_indexing(Settings(), DATA / "charging")
    assert not should_pause_indexing(
        Settings(pause_indexing_on_battery=False), DATA / "discharging"
    )
