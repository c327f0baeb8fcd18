"""The CPU-time estimate and sensor detection/selection."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from greenpair.core.energy.sensors import Probe, detect_sensors, select_sensor
from greenpair.core.energy.sensors.estimate import (
    DEFAULT_WATTS_PER_THREAD,
    EstimateSensor,
    cpu_model,
    cpu_power,
)

DATA = Path(__file__).parents[3] / "data" / "sysfs"


def test_cpu_table_setting_and_fallback() -> None:
    model = cpu_model(DATA / "proc" / "cpuinfo_i7-1165G7")
    assert "i7-1165G7" in model
    known = cpu_power(0.0, model)
    assert known.watts_per_thread == pytest.approx(28 / 8)
    assert "TDP" in known.source
    assert cpu_power(6.5, model).watts_per_thread == 6.5
    unknown = cpu_power(0.0, "Intel(R) Xeon(R) Processor")
    assert unknown.watts_per_thread == DEFAULT_WATTS_PER_THREAD
    assert cpu_model(DATA / "missing") is not None


def test_estimate_counts_busy_cpu_time() -> None:
    busy = [100.0]
    sensor = EstimateSensor(cpu_power(0.0, "AMD Ryzen 7 5800X 8-Core Processor"),
                            busy_cpu_s=lambda: busy[0])
    assert sensor.estimated
    assert sensor.read() == 0.0
    busy[0] += 2.0
    assert sensor.read() == pytest.approx(2.0 * 105 / 16)


def test_estimate_on_the_real_machine_moves_with_work() -> None:
    sensor = EstimateSensor()
    before = sensor.read()
    total = 0
    for i in range(2_000_000):
        total += i
    assert sensor.read() > before


def _probe(tmp_path: Path, powercap: str | None, supply: str | None) -> Probe:
    root = tmp_path / "powercap"
    if powercap:
        shutil.copytree(DATA / "powercap" / powercap, root)
    return Probe(
        powercap_root=root,
        power_supply_root=DATA / "power_supply" / (supply or "none"),
        platform="linux",
        skip=frozenset({"nvml"}),
        cpu_model="Intel(R) Xeon(R) Processor",
    )


def test_detect_lists_every_reader_with_a_reason(tmp_path: Path) -> None:
    statuses = {s.name: s for s in detect_sensors(_probe(tmp_path, None, "charging"))}
    assert set(statuses) == {"rapl", "nvml", "battery", "ioreport", "ioreg", "powermetrics",
                             "estimate"}
    assert not statuses["rapl"].available
    assert "only while discharging" in statuses["battery"].detail
    assert statuses["ioreg"].detail == "not macOS"
    assert statuses["estimate"].available
    assert statuses["estimate"].estimated
    assert "4.00 W per thread" in statuses["estimate"].detail


def test_selection_order(tmp_path: Path) -> None:
    assert select_sensor(_probe(tmp_path / "a", "laptop_psys", "discharging")).name == "rapl"
    assert select_sensor(_probe(tmp_path / "b", None, "discharging")).name == "battery"
    fallback = select_sensor(_probe(tmp_path / "c", None, "charging"))
    assert fallback.name == "estimate"
    assert fallback.estimated
