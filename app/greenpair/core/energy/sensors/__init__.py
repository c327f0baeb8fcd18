"""Energy sensors: one small reader per source, detection and selection.

Readers (each takes its root path or command runner as a parameter, so tests feed recorded
trees): :mod:`.rapl` (Linux powercap), :mod:`.nvml` (NVIDIA), :mod:`.battery` (Linux
battery discharge), :mod:`.macos` (ioreg battery, IOReport, powermetrics) and
:mod:`.estimate` (CPU time × watts per thread, the fallback).

Selection order for the meter: RAPL (+ NVML GPUs when both work), a discharging battery,
IOReport, the Mac battery's telemetry, powermetrics (when allowed), the estimate.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from greenpair.core.energy.sensors import battery, estimate, macos, nvml, rapl
from greenpair.core.energy.sensors.base import (
    EnergyCounter,
    Sensor,
    SensorKind,
    SensorStatus,
    SensorUnavailable,
)
from greenpair.core.energy.sensors.battery import on_battery

__all__ = [
    "CompositeSensor",
    "EnergyCounter",
    "Probe",
    "Sensor",
    "SensorStatus",
    "SensorUnavailable",
    "detect_sensors",
    "needs_sampling",
    "on_battery",
    "select_sensor",
]


@dataclass
class Probe:
    """Where and how to look for sensors (tests point it at recorded trees)."""

    powercap_root: Path = rapl.DEFAULT_ROOT
    power_supply_root: Path = battery.DEFAULT_ROOT
    nvml_module: ModuleType | None = None
    platform: str = sys.platform
    allow_powermetrics: bool = False
    cpu_watts_per_core: float = 0.0
    cpu_model: str | None = None
    runners: dict[str, Callable[[], str]] = field(default_factory=dict)
    ioreport_module: Any = None
    skip: frozenset[str] = frozenset()  # sensor names not to try (tests, benchmarks)

    @classmethod
    def from_settings(cls, settings: Any) -> Probe:
        """A probe of the real machine honouring the user's settings."""
        return cls(
            allow_powermetrics=bool(getattr(settings, "allow_powermetrics", False)),
            cpu_watts_per_core=float(getattr(settings, "cpu_watts_per_core", 0.0)),
        )


def _factories(probe: Probe) -> list[tuple[str, Callable[[], Sensor]]]:
    return [
        ("rapl", lambda: rapl.RaplSensor(probe.powercap_root)),
        ("nvml", lambda: nvml.NvmlSensor(probe.nvml_module)),
        ("battery", lambda: battery.BatterySensor(probe.power_supply_root)),
        ("ioreport", lambda: macos.IOReportSensor(probe.ioreport_module, probe.platform)),
        ("ioreg", lambda: macos.IoregBatterySensor(probe.runners.get("ioreg"), probe.platform)),
        (
            "powermetrics",
            lambda: macos.PowermetricsSensor(
                allowed=probe.allow_powermetrics,
                run=probe.runners.get("powermetrics"),
                platform=probe.platform,
            ),
        ),
        (
            "estimate",
            lambda: estimate.EstimateSensor(
                estimate.cpu_power(probe.cpu_watts_per_core, probe.cpu_model)
            ),
        ),
    ]


def _try(factory: Callable[[], Sensor]) -> tuple[Sensor | None, str]:
    try:
        sensor = factory()
    except SensorUnavailable as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a broken driver must not break the app
        return None, f"failed: {type(exc).__name__}: {exc}"
    return sensor, sensor.description


def _probe_all(probe: Probe) -> Iterator[tuple[str, Sensor | None, str]]:
    for name, factory in _factories(probe):
        if name in probe.skip:
            yield name, None, "skipped"
            continue
        sensor, detail = _try(factory)
        yield name, sensor, detail


def detect_sensors(probe: Probe | None = None) -> list[SensorStatus]:
    """Try every reader and say which work and why the others don't (``greenpair doctor``).

    Args:
        probe: Where to look; the real machine by default.
    """
    statuses = []
    for name, sensor, detail in _probe_all(probe or Probe()):
        estimated = name == "estimate"
        statuses.append(SensorStatus(name, sensor is not None, estimated, detail))
        if sensor is not None:
            sensor.close()
    return statuses


class CompositeSensor:
    """Disjoint sensors added up (RAPL for the CPU + NVML for the GPUs)."""

    kind: SensorKind = "energy"

    def __init__(self, parts: list[Sensor]) -> None:
        self.parts = parts
        self._counters = [EnergyCounter(p) for p in parts]
        self.name = "+".join(p.name for p in parts)
        self.scope = "+".join(p.scope for p in parts)
        self.estimated = any(p.estimated for p in parts)
        self.description = "; ".join(f"{p.name}: {p.description}" for p in parts)
        self.needs_sampling = any(p.kind == "power" for p in parts)
        self.read()

    def read(self) -> float:
        """Joules of all parts since the sensor started."""
        return sum(c.joules() for c in self._counters)

    def close(self) -> None:
        """Close every part."""
        for part in self.parts:
            part.close()


def needs_sampling(sensor: Sensor) -> bool:
    """Whether the sensor must be read regularly during a window (power integration)."""
    return sensor.kind == "power" or bool(getattr(sensor, "needs_sampling", False))


def select_sensor(probe: Probe | None = None) -> Sensor:
    """The best working sensor of this machine (the estimate when nothing else works).

    RAPL comes first (with the NVIDIA GPUs added when NVML works too); NVML alone is not
    used, since it sees only the GPUs. A discharging battery sees the whole system.
    """
    probe = probe or Probe()
    factories = dict(_factories(probe))

    def attempt(name: str) -> Sensor | None:
        return None if name in probe.skip else _try(factories[name])[0]

    cpu = attempt("rapl")
    if cpu is not None:
        gpu = attempt("nvml")
        return CompositeSensor([cpu, gpu]) if gpu is not None else cpu
    for name in ("battery", "ioreport", "ioreg", "powermetrics"):
        sensor = attempt(name)
        if sensor is not None:
            return sensor
    return factories["estimate"]()
