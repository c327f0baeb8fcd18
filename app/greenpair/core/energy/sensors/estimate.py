"""The estimate used when no sensor works: busy CPU time × watts per busy thread.

The watts per busy logical CPU come from, in order: the ``cpu_watts_per_core`` setting; a
small table of common CPUs (rated TDP ÷ hardware threads, from the makers' specification
pages: Intel ARK, AMD product pages); CodeCarbon's fallback of 4 W per thread for unknown
CPUs. The system figure is the machine's busy CPU time (``psutil.cpu_times``, all
processes); Greenpair's share is its own process CPU time. Every figure built on it is
labelled *estimated*.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from greenpair.core.energy.sensors.base import SensorKind

DEFAULT_WATTS_PER_THREAD = 4.0  # CodeCarbon's fallback for CPUs it does not know

# model substring -> (TDP in W, hardware threads); base/default TDP from the spec sheets.
CPU_TABLE: dict[str, tuple[float, int]] = {
    "i5-1135G7": (28.0, 8),
    "i7-1165G7": (28.0, 8),
    "i7-1260P": (28.0, 16),
    "i7-1360P": (28.0, 16),
    "i7-12700H": (45.0, 20),
    "i7-13700H": (45.0, 20),
    "i5-12400": (65.0, 12),
    "i7-12700K": (125.0, 20),
    "i9-13900K": (125.0, 32),
    "Ryzen 7 5800U": (15.0, 16),
    "Ryzen 7 7840U": (28.0, 16),
    "Ryzen 5 5600X": (65.0, 12),
    "Ryzen 7 5800X": (105.0, 16),
    "Ryzen 9 7950X": (170.0, 32),
}


@dataclass(frozen=True)
class CpuPower:
    """Watts per busy logical CPU and where the figure came from."""

    watts_per_thread: float
    source: str


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's brand string ("" when unknown)."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True, text=True, timeout=2, check=False,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    return platform.processor()


def cpu_power(setting_w: float = 0.0, model: str | None = None) -> CpuPower:
    """Watts per busy thread for the estimate.

    Args:
        setting_w: ``Settings.cpu_watts_per_core`` (0: not set).
        model: The CPU brand string (read from the machine when None).
    """
    if setting_w > 0:
        return CpuPower(setting_w, "the cpu_watts_per_core setting")
    model = cpu_model() if model is None else model
    for key, (tdp, threads) in CPU_TABLE.items():
        if key.lower() in model.lower():
            return CpuPower(tdp / threads, f"{key}: {tdp:g} W TDP / {threads} threads")
    label = model or "unknown CPU"
    return CpuPower(DEFAULT_WATTS_PER_THREAD, f"{label}: not in the table, 4 W per thread")


def system_busy_cpu_s() -> float:
    """Busy CPU seconds of the whole machine since boot (all logical CPUs)."""
    import psutil

    t = psutil.cpu_times()
    busy = t.user + t.system + getattr(t, "nice", 0.0)
    busy += getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
    return float(busy)


class EstimateSensor:
    """System energy estimated from busy CPU time (an energy counter, always estimated).

    Args:
        power: Watts per busy thread.
        busy_cpu_s: Source of the machine's busy CPU seconds (tests inject one).
    """

    name = "estimate"
    kind: SensorKind = "energy"
    scope = "system"
    estimated = True

    def __init__(
        self,
        power: CpuPower | None = None,
        busy_cpu_s: Callable[[], float] = system_busy_cpu_s,
    ) -> None:
        self.power = power or cpu_power()
        self._busy = busy_cpu_s
        self._base = busy_cpu_s()
        self.description = (
            f"busy CPU time × {self.power.watts_per_thread:.2f} W per thread "
            f"({self.power.source})"
        )

    @property
    def watts_per_thread(self) -> float:
        """Watts per busy logical CPU."""
        return self.power.watts_per_thread

    def read(self) -> float:
        """Estimated joules since the sensor started."""
        return (self._busy() - self._base) * self.power.watts_per_thread

    def close(self) -> None:
        """Nothing to release."""
