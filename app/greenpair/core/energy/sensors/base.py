"""The sensor interface shared by every reader.

A sensor is either an *energy* sensor, whose ``read()`` returns a cumulative joule counter
(RAPL, the NVML total-energy counter, the CPU-time estimate), or a *power* sensor, whose
``read()`` returns the watts drawn right now (a discharging battery, NVML power samples,
``powermetrics``). :class:`EnergyCounter` turns either kind into one monotonic joule
counter, integrating power sensors between samples (trapezoid rule), so the meter treats
all sensors alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

SensorKind = Literal["energy", "power"]


class SensorUnavailable(Exception):
    """A sensor cannot be read on this machine; ``str()`` says why, for ``greenpair doctor``."""


@runtime_checkable
class Sensor(Protocol):
    """One power or energy reader.

    Attributes:
        name: Short id shown to the user (``rapl``, ``nvml``, ``battery``, ``estimate``…).
        kind: ``"energy"`` (``read`` returns cumulative joules) or ``"power"`` (watts now).
        scope: What is measured: ``system``, ``cpu`` (package + DRAM), ``gpu``.
        estimated: True when the figure is a model, not a measurement.
        description: One line for ``greenpair doctor`` (domains, device names…).
    """

    name: str
    kind: SensorKind
    scope: str
    estimated: bool
    description: str

    def read(self) -> float:
        """Cumulative joules (energy sensors) or watts now (power sensors).

        Raises:
            SensorUnavailable: The sensor stopped working (e.g. the battery began charging).
        """
        ...

    def close(self) -> None:
        """Release handles (NVML, subprocesses)."""
        ...


@dataclass(frozen=True)
class SensorStatus:
    """Whether one reader works on this machine, and why not (``greenpair doctor``)."""

    name: str
    available: bool
    estimated: bool
    detail: str

    def to_json(self) -> dict[str, object]:
        """JSON-ready dictionary."""
        return {
            "name": self.name,
            "available": self.available,
            "estimated": self.estimated,
            "detail": self.detail,
        }


class EnergyCounter:
    """A thread-safe, monotonic joule counter over any sensor.

    Energy sensors already count joules; power sensors are integrated between successive
    ``joules()`` calls, so the caller (the sampler) should call it regularly while a
    measurement is open.

    Args:
        sensor: The sensor to read.
        clock: Monotonic clock in seconds (injected by tests).
    """

    def __init__(self, sensor: Sensor, clock: Callable[[], float] = time.monotonic) -> None:
        self.sensor = sensor
        self._clock = clock
        self._lock = threading.Lock()
        self._total = 0.0
        self._last_value: float | None = None
        self._last_t: float | None = None

    def joules(self) -> float:
        """Read the sensor now and return the joules counted since this counter was made.

        Raises:
            SensorUnavailable: The sensor could not be read.
        """
        with self._lock:
            value = self.sensor.read()
            now = self._clock()
            if self.sensor.kind == "energy":
                if self._last_value is not None:
                    self._total += max(0.0, value - self._last_value)
            elif self._last_value is not None and self._last_t is not None:
                dt = max(0.0, now - self._last_t)
                self._total += (self._last_value + value) / 2.0 * dt
            self._last_value, self._last_t = value, now
            return self._total


def read_text(path: Path) -> str:
    """Read a small sysfs/procfs attribute (one place for tests to simulate errors).

    Raises:
        OSError: The file is missing or unreadable (``PermissionError`` included).
    """
    return path.read_text(encoding="ascii", errors="replace").strip()


def read_int(path: Path) -> int:
    """Read an integer attribute.

    Raises:
        OSError: Missing or unreadable file.
        ValueError: Not an integer.
    """
    return int(read_text(path))
