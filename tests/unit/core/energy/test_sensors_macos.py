"""macOS readers on recorded ioreg / powermetrics output, and IOReport with a stand-in."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from greenpair.core.energy.sensors.base import SensorUnavailable
from greenpair.core.energy.sensors.macos import (
    IoregBatterySensor,
    IOReportSensor,
    PowermetricsSensor,
    ioreg_watts,
    powermetrics_watts,
)

DATA = Path(__file__).parents[3] / "data" / "sysfs" / "macos"


def recorded(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_ioreg_discharging_uses_signed_amperage() -> None:
    # InstantAmperage 18446744073709550694 is -922 mA as a signed 64-bit number.
    assert ioreg_watts(recorded("ioreg_discharging.txt")) == pytest.approx(0.922 * 12.432)


def test_ioreg_power_telemetry_works_while_charging() -> None:
    assert ioreg_watts(recorded("ioreg_telemetry_charging.txt")) == pytest.approx(8.265)


def test_ioreg_charging_without_telemetry_is_unusable() -> None:
    with pytest.raises(SensorUnavailable, match="plugged in"):
        ioreg_watts(recorded("ioreg_charging_no_telemetry.txt"))
    with pytest.raises(SensorUnavailable, match="no AppleSmartBattery"):
        ioreg_watts("")


def test_ioreg_sensor_with_injected_runner() -> None:
    sensor = IoregBatterySensor(run=lambda: recorded("ioreg_discharging.txt"))
    assert sensor.kind == "power"
    assert sensor.min_interval_s >= 1.0
    assert sensor.read() == pytest.approx(11.462, abs=0.01)


def test_not_macos() -> None:
    with pytest.raises(SensorUnavailable, match="not macOS"):
        IoregBatterySensor(platform="linux")
    with pytest.raises(SensorUnavailable, match="not macOS"):
        IOReportSensor(platform="linux")


def test_powermetrics_parsing_and_permission_setting() -> None:
    text = recorded("powermetrics_m1.txt")
    assert powermetrics_watts(text) == pytest.approx(1.882)
    intel = "Intel energy model derived package power (CPUs+GT+SA): 7.43W\n"
    assert powermetrics_watts(intel) == pytest.approx(7.43)
    with pytest.raises(SensorUnavailable, match="not allowed"):
        PowermetricsSensor(allowed=False, run=lambda: text)
    assert PowermetricsSensor(allowed=True, run=lambda: text).read() == pytest.approx(1.882)


def test_ioreport_rolls_windows_and_adds_millijoules() -> None:
    class Monitor:
        def __init__(self) -> None:
            self.open: set[str] = set()

        def begin_window(self, label: str) -> None:
            self.open.add(label)

        def end_window(self, label: str) -> types.SimpleNamespace:
            self.open.remove(label)
            return types.SimpleNamespace(cpu_total_mj=1200, gpu_mj=300, ane_mj=None, dram_mj=500)

    module = types.SimpleNamespace(AppleEnergyMonitor=Monitor)
    sensor = IOReportSensor(module)
    assert sensor.read() == pytest.approx(2.0)
    assert sensor.read() == pytest.approx(4.0)
    assert len(sensor._monitor.open) == 1  # always exactly one window open
