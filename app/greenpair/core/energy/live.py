"""Live power: readings between sampler ticks, and who is told about them.

The sampler (``sampler.Sampler``) ticks while someone wants readings: a subscriber (the
tray), a recent ``live_reading()`` poll (a lease of ``LIVE_LEASE_S``), or an open window
whose sensor must be sampled. Each tick turns two snapshots into a ``PowerReading``;
subscribers hear of it only when the power changed meaningfully (≥ 0.5 W and ≥ 5 %) or
the sensor changed, so an idle desktop wakes nobody.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from greenpair.core.energy.attribution import Snapshot
from greenpair.core.energy.report import PowerReading

LIVE_LEASE_S = 10.0
PowerCallback = Callable[[PowerReading], None]


def reading_between(prev: Snapshot, snap: Snapshot, *, sensor_name: str, estimated: bool,
                    watts_per_thread: float) -> PowerReading | None:
    """Average power between two snapshots (None across a change of sensor)."""
    dt = snap.t - prev.t
    if dt <= 0 or snap.gen != prev.gen:
        return None
    d_proc = max(0.0, snap.proc_s - prev.proc_s)
    d_sys = max(0.0, snap.sys_s - prev.sys_s)
    if None not in (snap.sensor_j, prev.sensor_j) and not estimated:
        watts = max(0.0, snap.sensor_j - prev.sensor_j) / dt  # type: ignore[operator]
        share = min(1.0, d_proc / d_sys) if d_sys > 0 else 0.0
        return PowerReading(time.time(), watts, watts * share, sensor_name, False)
    w = watts_per_thread
    return PowerReading(time.time(), max(d_sys, d_proc) * w / dt, d_proc * w / dt,
                        "estimate", True)


def meaningful(old: PowerReading | None, new: PowerReading) -> bool:
    """Whether subscribers should hear of ``new`` after ``old``."""
    if old is None or old.sensor != new.sensor or old.estimated != new.estimated:
        return True
    delta = abs(new.watts - old.watts)
    return delta >= 0.5 and delta >= 0.05 * max(old.watts, 1e-9)


class LivePower:
    """State of the live readings (callers hold the meter's lock).

    Args:
        clock: Monotonic clock (for the poll lease).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.subscribers: list[PowerCallback] = []
        self.reading: PowerReading | None = None
        self.notified: PowerReading | None = None
        self.prev: Snapshot | None = None
        self.lease_until = 0.0
        self.sampling_windows = 0

    def wanted(self) -> bool:
        """Whether the sampler should keep ticking."""
        return bool(self.subscribers) or self.sampling_windows > 0 or (
            self._clock() < self.lease_until)

    def poll(self) -> PowerReading | None:
        """The latest reading; extends the lease that keeps the sampler running."""
        self.lease_until = self._clock() + LIVE_LEASE_S
        return self.reading

    def tick(self, snap: Snapshot, interval_s: float, *, sensor_name: str, estimated: bool,
             watts_per_thread: float) -> tuple[PowerReading | None, list[PowerCallback]]:
        """Take a tick's snapshot: the new reading and the subscribers to tell."""
        prev, self.prev = self.prev, snap
        if prev is None or snap.t - prev.t > 3 * interval_s + 1:
            return None, []  # first tick, or the sampler slept: no fair average
        reading = reading_between(prev, snap, sensor_name=sensor_name, estimated=estimated,
                                  watts_per_thread=watts_per_thread)
        if reading is None:
            return None, []
        self.reading = reading
        if not meaningful(self.notified, reading):
            return reading, []
        self.notified = reading
        return reading, list(self.subscribers)
