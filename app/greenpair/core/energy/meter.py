"""The meter: measurement windows, live power, avoided-work counters.

Windows::

    with meter.window("answer", repo=str(repo)) as w:
        ...                      # the work
        w.tokens = n             # generated tokens (optional); w.prompt_tokens too
    w.report                     # EnergyReport, set on exit and written to the ledger

Each window reads the counters itself at its start and end (no global reset), so windows
nest and overlap freely. ``Meter`` only coordinates four parts, each in its own module:

* ``sensing``: which sensor is read (chosen lazily, reconsidered when it is an estimate
  or failed) and snapshots of it with the CPU times;
* ``attribution``: how a segment's energy is shared between the windows open in it
  (``system energy × Greenpair's CPU share ÷ open windows``; windows add up to
  Greenpair's total, never more);
* ``live``: readings between sampler ticks and the subscribers told about them
  (``live_watts()``, ``subscribe(callback)``; the sampler thread runs only while wanted);
* ``recording``: reports and avoided work written to the ledger::

    meter.count("suggestions_avoided")
    meter.record_saving("prompt_tokens_saved", tokens=812)
    meter.record_saving("embeddings_reused", count=120, joules=3.1)

Work receives its meter as a service (``service.EnergyMeter``); each entry point builds
one ``Meter`` in its ``Services`` and passes it down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from greenpair.core.energy.attribution import Attribution, EnergyWindow, Snapshot, window_report
from greenpair.core.energy.carbon import intensity_for
from greenpair.core.energy.ledger import Ledger
from greenpair.core.energy.live import LIVE_LEASE_S, LivePower, PowerCallback, reading_between
from greenpair.core.energy.recording import LedgerWriter
from greenpair.core.energy.report import EnergyReport, PowerReading
from greenpair.core.energy.sampler import Sampler
from greenpair.core.energy.sensing import RESELECT_S, SensorChoice
from greenpair.core.energy.sensors import EnergyCounter, Probe, Sensor, needs_sampling
from greenpair.core.energy.sensors.estimate import system_busy_cpu_s

log = logging.getLogger(__name__)

__all__ = ["LIVE_LEASE_S", "RESELECT_S", "EnergyWindow", "Meter", "Subscription"]

SETTINGS_TTL_S = 5.0
SUGGESTIONS_AVOIDED = "suggestions_avoided"
PROMPT_TOKENS_SAVED = "prompt_tokens_saved"
KV_CACHE_TOKENS_REUSED = "kv_cache_tokens_reused"
EMBEDDINGS_REUSED = "embeddings_reused"


class Subscription:
    """Handle returned by :meth:`Meter.subscribe`; ``close()`` (or ``with``) ends it."""

    def __init__(self, meter: Meter, callback: PowerCallback) -> None:
        self._meter, self.callback = meter, callback

    def close(self) -> None:
        """Stop receiving readings (the sampler stops when nobody listens)."""
        self._meter.unsubscribe(self.callback)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def greenpair_cpu_s() -> float:
    """Greenpair's CPU seconds: this process and the children it waited for (a patch's
    check runs the repository's tests in child processes; that work is Greenpair's)."""
    try:
        import resource
    except ImportError:  # Windows: no rusage of children
        return time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _default_settings() -> Any:
    from greenpair.core.config import Settings

    return Settings()


class Meter:
    """An energy meter (one per process, built by ``greenpair.core.services.Services``).

    Args:
        sensor: A fixed sensor (tests); None selects the best one of this machine lazily.
        probe: Where to look for sensors when selecting.
        settings: Gives the settings in force (called when needed, so changes apply;
            default: the built-in defaults).
        process_cpu_s: Greenpair's CPU seconds (all threads, waited-for children).
        system_cpu_s: The machine's busy CPU seconds.
        clock: Monotonic clock.
        record: Write closed windows and savings to the ledger.
    """

    def __init__(
        self,
        sensor: Sensor | None = None,
        *,
        probe: Probe | None = None,
        settings: Callable[[], Any] = _default_settings,
        process_cpu_s: Callable[[], float] = greenpair_cpu_s,
        system_cpu_s: Callable[[], float] = system_busy_cpu_s,
        clock: Callable[[], float] = time.monotonic,
        record: bool = True,
    ) -> None:
        self._load = settings
        self._settings_cache: tuple[float, Any] | None = None
        self._proc = process_cpu_s
        self._sys = system_cpu_s
        self._clock = clock
        self._lock = threading.RLock()
        self._sensing = SensorChoice(sensor, probe, clock)
        self._attribution = Attribution()
        self._live = LivePower(clock)
        self._recording = LedgerWriter(record)
        self.last_report: EnergyReport | None = None
        self.sampler = Sampler(self._on_tick, self._interval, self._live.wanted)

    def _settings(self) -> Any:
        """The settings, re-read at most every few seconds (the sampler asks each tick)."""
        now = time.monotonic()
        cached = self._settings_cache
        if cached is None or now - cached[0] > SETTINGS_TTL_S:
            cached = self._settings_cache = (now, self._load())
        return cached[1]

    # -- state the tests and the tray look at ------------------------------------------
    @property
    def _open(self) -> list[EnergyWindow]:
        return self._attribution.open

    @property
    def _subscribers(self) -> list[PowerCallback]:
        return self._live.subscribers

    @property
    def _reading(self) -> PowerReading | None:
        return self._live.reading

    # -- sensor -----------------------------------------------------------------------
    def _ensure_sensor(self) -> EnergyCounter:
        with self._lock:
            counter, fresh = self._sensing.ensure(self._settings(),
                                                  busy=bool(self._attribution.open))
            if fresh:
                self._attribution.forget_last()
                self._live.prev = None
            return counter

    @property
    def sensor(self) -> Sensor:
        """The sensor in use (selected on first use)."""
        return self._ensure_sensor().sensor

    @property
    def sensor_name(self) -> str:
        """Name of the sensor in use (``rapl``, ``battery``, ``estimate``…)."""
        return self.sensor.name

    @property
    def estimated(self) -> bool:
        """Whether figures come from the estimate rather than a measurement."""
        return self.sensor.estimated

    def watts_per_thread(self) -> float:
        """Watts per busy thread used by the estimate (setting, CPU table or 4 W)."""
        return self._sensing.watts_per_thread(self._settings())

    def _take(self) -> Snapshot:
        with self._lock:
            counter = self._ensure_sensor()
            snap = self._sensing.snapshot(counter, self._proc(), self._sys())
            self._attribution.advance(snap)
            return snap

    # -- windows ----------------------------------------------------------------------
    @contextmanager
    def window(self, kind: str, *, record: bool = True, **meta: Any) -> Iterator[EnergyWindow]:
        """Measure the energy of the work done inside the ``with`` block.

        Args:
            kind: ``answer``, ``patch``, ``index``, ``suggestion``…
            record: Write the report to the ledger.
            **meta: Details kept with the report (repository, model…).
        """
        win = EnergyWindow(kind=kind, meta=dict(meta))
        with self._lock:
            win._start = self._take()
            self._attribution.open.append(win)
            counter = self._sensing.counter
            sampling = needs_sampling(counter.sensor) if counter else False
            if sampling:
                self._live.sampling_windows += 1
        if sampling:
            self.sampler.ensure_running()
        try:
            yield win
        finally:
            with self._lock:
                end = self._take()
                self._attribution.open.remove(win)
                if sampling:
                    self._live.sampling_windows -= 1
                win.report = self._report(win, end)
                self.last_report = win.report
            if sampling:
                self.sampler.wake()
            self._recording.learn(win.report)
            if record:
                self._recording.record(win.report)

    def _report(self, win: EnergyWindow, end: Snapshot) -> EnergyReport:
        counter = self._sensing.counter
        assert counter is not None
        g_per_kwh, _ = intensity_for(self._settings())
        return window_report(win, end, sensor_name=counter.sensor.name,
                             sensor_estimated=counter.sensor.estimated,
                             watts_per_thread=self.watts_per_thread(), g_per_kwh=g_per_kwh)

    # -- ledger and savings -----------------------------------------------------------
    def ledger(self) -> Ledger:
        """The ledger at the current ``ledger_path()`` (reopened when the path changes)."""
        return self._recording.ledger()

    def count(self, name: str, n: float = 1) -> None:
        """Add ``n`` to an avoided-work counter (e.g. ``suggestions_avoided``)."""
        self.record_saving(name, count=n)

    def record_saving(
        self, name: str, *, count: float = 1, tokens: int = 0, joules: float | None = None
    ) -> None:
        """Record avoided work: tokens not processed, generations skipped, reuse.

        Args:
            name: Counter name (see the module docstring for the standard ones).
            count: How many events.
            tokens: Tokens not processed thanks to it.
            joules: Energy saved, when the caller knows it; else estimated from tokens.
        """
        self._recording.record_saving(name, count=count, tokens=tokens, joules=joules)

    # -- live power -------------------------------------------------------------------
    def _interval(self) -> float:
        hz = float(getattr(self._settings(), "sampler_hz", 1.0) or 1.0)
        counter = self._sensing.counter
        floor = float(getattr(counter.sensor, "min_interval_s", 0.0)) if counter else 0.0
        return max(1.0 / max(hz, 0.01), floor)

    def _reading_between(self, prev: Snapshot, snap: Snapshot) -> PowerReading | None:
        sensor = self.sensor
        return reading_between(prev, snap, sensor_name=sensor.name, estimated=sensor.estimated,
                               watts_per_thread=self.watts_per_thread())

    def tick(self) -> None:
        """One sampler tick now (what the sampler thread runs; benchmarks time it)."""
        self._on_tick()

    def _on_tick(self) -> None:
        with self._lock:
            snap = self._take()
            sensor = self.sensor
            reading, callbacks = self._live.tick(
                snap, self._interval(), sensor_name=sensor.name, estimated=sensor.estimated,
                watts_per_thread=self.watts_per_thread())
        for callback in callbacks:
            try:
                callback(reading)  # type: ignore[arg-type]
            except Exception:  # a subscriber bug must not stop the sampler
                log.exception("energy subscriber failed")

    def live_reading(self) -> PowerReading | None:
        """The latest reading (None until the sampler has ticked twice); starts it."""
        with self._lock:
            reading = self._live.poll()
        self.sampler.ensure_running()
        return reading

    def live_watts(self) -> float | None:
        """Whole-system watts now (estimated where no sensor works); None at first call."""
        reading = self.live_reading()
        return None if reading is None else reading.watts

    def measure_power(self, seconds: float = 1.0) -> PowerReading:
        """Block ``seconds`` and return the average power over them (for the CLI)."""
        first = self._take()
        threading.Event().wait(seconds)
        second = self._take()
        reading = self._reading_between(first, second)
        if reading is None:  # the sensor was re-selected in between: try once more
            return self.measure_power(seconds)
        return reading

    def subscribe(self, callback: PowerCallback) -> Subscription:
        """Call ``callback(PowerReading)`` from the sampler thread on meaningful changes."""
        with self._lock:
            self._live.subscribers.append(callback)
            current = self._live.reading
        self.sampler.ensure_running()
        if current is not None:
            callback(current)
        return Subscription(self, callback)

    def unsubscribe(self, callback: PowerCallback) -> None:
        """Stop calling ``callback``."""
        with self._lock:
            if callback in self._live.subscribers:
                self._live.subscribers.remove(callback)
        self.sampler.wake()

    def close(self) -> None:
        """Stop the sampler and release the sensor and the ledger."""
        self.sampler.stop()
        with self._lock:
            self._sensing.close()
        self._recording.close()
