"""Sensor choice: which sensor the meter reads, and snapshots of it with CPU times.

The best sensor of the machine is selected on first use (``select_sensor``). An estimate,
battery or ``ioreg`` reading is reconsidered every ``RESELECT_S`` seconds while no window
is open (a charger unplugged, a permission granted), and a sensor that failed is replaced
at once; each new choice bumps ``gen`` so snapshots of different sensors are never
subtracted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from greenpair.core.energy.attribution import Snapshot
from greenpair.core.energy.sensors import (
    EnergyCounter,
    Probe,
    Sensor,
    SensorUnavailable,
    select_sensor,
)
from greenpair.core.energy.sensors.estimate import cpu_power

log = logging.getLogger(__name__)

RESELECT_S = 60.0
_RESELECTABLE = {"estimate", "battery", "ioreg"}


class SensorChoice:
    """The sensor in use and its energy counter (callers hold the meter's lock).

    Args:
        sensor: A fixed sensor (tests); None selects the best one of this machine lazily.
        probe: Where to look for sensors when selecting (default: from the settings).
        clock: Monotonic clock.
    """

    def __init__(self, sensor: Sensor | None, probe: Probe | None,
                 clock: Callable[[], float]) -> None:
        self._fixed = sensor is not None
        self._probe = probe
        self._clock = clock
        self.counter: EnergyCounter | None = EnergyCounter(sensor, clock) if sensor else None
        self.gen = 0
        self._selected_at = 0.0
        self._failed = False
        self._cpu_model: str | None = None

    def ensure(self, settings: Any, *, busy: bool) -> tuple[EnergyCounter, bool]:
        """The counter to read, and whether it was (re)selected just now.

        Args:
            settings: For the probe's paths and options.
            busy: A window is open (never switch sensors under it).
        """
        now = self._clock()
        stale = (
            self.counter is not None
            and not self._fixed
            and not busy
            and (self._failed or (self.counter.sensor.name in _RESELECTABLE
                                  and now - self._selected_at > RESELECT_S))
        )
        if self.counter is not None and not stale:
            return self.counter, False
        if self.counter is not None:
            self.counter.sensor.close()
        probe = self._probe or Probe.from_settings(settings)
        self.counter = EnergyCounter(select_sensor(probe), self._clock)
        self.gen += 1
        self._selected_at = now
        self._failed = False
        return self.counter, True

    def snapshot(self, counter: EnergyCounter, proc_s: float, sys_s: float) -> Snapshot:
        """Read the counter (a failing sensor gives None and is replaced next time)."""
        try:
            joules: float | None = counter.joules()
        except SensorUnavailable as exc:
            log.info("energy sensor %s failed: %s", counter.sensor.name, exc)
            joules, self._failed = None, True
        return Snapshot(self._clock(), self.gen, joules, proc_s, sys_s)

    def watts_per_thread(self, settings: Any) -> float:
        """Watts per busy thread used by the estimate (setting, CPU table or 4 W)."""
        if self._cpu_model is None:
            from greenpair.core.energy.sensors.estimate import cpu_model

            self._cpu_model = cpu_model()
        setting = float(getattr(settings, "cpu_watts_per_core", 0.0))
        return cpu_power(setting, self._cpu_model).watts_per_thread

    def close(self) -> None:
        """Release the sensor."""
        if self.counter is not None:
            self.counter.sensor.close()
