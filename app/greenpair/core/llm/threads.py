"""How many CPU threads a generation gets: all cores while the user waits on an idle machine.

llama.cpp on a CPU is bound by memory bandwidth and by cores: on the 2-core machine of
DESIGN.md §8, two threads decode at 11.5 tok/s and process prompts at 59 tok/s, one thread
at 5.9 and 34. Running on every core while another process is busy is worse than leaving
one free (the threads wait on each other), and on battery fewer threads draw less. So:

* the ``threads`` setting, when set, is used as it is;
* eco mode keeps half of physical cores − 1;
* otherwise a generation gets every physical core when the rest of the machine is idle
  and it runs on mains power, and physical cores − 1 when other processes keep a core
  busy or it runs on battery.

The load of *other* processes is the machine's busy CPU time minus this process's own,
over the time since the last look; looking costs two small reads (``/proc/stat`` and this
process's times), so it is done when a generation starts and every couple of seconds
while it runs (never in a loop of its own).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

BUSY_CORES = 0.5  # other processes using this much of a core (on average) count as busy
MIN_WINDOW_S = 0.1  # shortest window the load is measured over
RECHECK_S = 2.0  # how often a running generation looks again


@dataclass(frozen=True)
class ThreadChoice:
    """Threads for the next stretch of work, and why."""

    threads: int
    reason: str  # "setting", "eco", "idle", "busy", "battery", "one core"


@dataclass(frozen=True)
class CpuSample:
    """Cumulative CPU seconds at one moment."""

    wall: float
    machine_busy: float  # all cores, all processes, not idle or waiting on I/O
    own: float  # this process, user + system


def read_sample() -> CpuSample:
    """The machine's and this process's CPU time now (psutil)."""
    import psutil

    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0)
    busy = sum(t) - idle - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
    own = psutil.Process().cpu_times()
    return CpuSample(time.monotonic(), busy, own.user + own.system)


def on_mains_power() -> bool:
    """False only when the machine is known to run on battery."""
    try:
        from greenpair.core.energy.sensors.battery import on_battery

        if on_battery():
            return False
        import psutil

        battery = psutil.sensors_battery()
    except Exception:  # noqa: BLE001 - no battery information is "plugged in"
        return True
    return battery is None or battery.power_plugged is not False


class ThreadPolicy:
    """Chooses the thread count of a generation (see the module docstring).

    Args:
        physical: Physical CPU cores.
        fixed: A thread count to use always (the ``threads`` setting; 0: choose).
        eco: Eco mode (fewer threads, fixed).
        sample: Reads CPU times (injected by tests).
        mains: Says whether the machine runs on mains power (injected by tests).
        sleep: Waits for a measurement window (injected by tests).
    """

    def __init__(
        self,
        physical: int,
        *,
        fixed: int = 0,
        eco: bool = False,
        sample: Callable[[], CpuSample] = read_sample,
        mains: Callable[[], bool] = on_mains_power,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.physical = max(1, physical)
        self.fixed = fixed
        self.eco = eco
        self._sample = sample
        self._mains = mains
        self._sleep = sleep
        self._last: CpuSample | None = None

    @property
    def background(self) -> int:
        """Threads that leave one core free (the count when backing off)."""
        n = max(1, self.physical - 1)
        return max(1, n // 2) if self.eco else n

    @property
    def adaptive(self) -> bool:
        """Whether the count depends on the machine's state."""
        return self.fixed <= 0 and not self.eco and self.physical > 1

    def other_load(self) -> float:
        """Cores kept busy by other processes since the last look (a fresh short window
        when there was no look yet or the last one was a moment ago)."""
        now = self._sample()
        last = self._last
        if last is None or now.wall - last.wall < MIN_WINDOW_S:
            if last is None:
                last = now
            self._sleep(MIN_WINDOW_S)
            now = self._sample()
        self._last = now
        wall = now.wall - last.wall
        if wall <= 0:
            return 0.0
        other = (now.machine_busy - last.machine_busy) - (now.own - last.own)
        return max(0.0, other / wall)

    def choose(self) -> ThreadChoice:
        """Threads for a generation starting now."""
        if self.fixed > 0:
            return ThreadChoice(self.fixed, "setting")
        if self.eco:
            return ThreadChoice(self.background, "eco")
        if self.physical == 1:
            return ThreadChoice(1, "one core")
        if not self._mains():
            return ThreadChoice(self.background, "battery")
        try:
            load = self.other_load()
        except Exception as exc:  # noqa: BLE001 - no load figures: stay polite
            log.debug("no CPU load figures (%s); leaving a core free", exc)
            return ThreadChoice(self.background, "busy")
        if load >= BUSY_CORES:
            return ThreadChoice(self.background, "busy")
        return ThreadChoice(self.physical, "idle")


def default_policy(threads: int = 0, eco: bool = False) -> ThreadPolicy:
    """The policy for this machine and the ``threads``/``eco_mode`` settings."""
    from greenpair.core.config import physical_cores

    return ThreadPolicy(physical_cores(), fixed=threads, eco=eco)
