"""The meter: measurement windows, live power, avoided-work counters.

Windows::

    with get_meter().window("answer", repo=str(repo)) as w:
        ...                      # the work
        w.tokens = n             # generated tokens (optional); w.prompt_tokens too
    w.report                     # EnergyReport, set on exit and written to the ledger

Each window reads the counters itself at its start and end (no global reset), so windows
nest and overlap freely. Attribution rule: time is cut into segments at every window
start/end and sampler tick; in each segment the whole system's energy is multiplied by
Greenpair's share of the busy CPU time (process CPU ÷ machine CPU) and that part is split
*equally* between the windows open in the segment. A question asked during indexing thus
gets half of Greenpair's energy while both run, all of it before and after; the windows'
joules add up to Greenpair's total, never more. ``system_joules`` is each window's own
whole-system reading (overlapping windows see the same system energy).

Live power: ``live_watts()`` / ``subscribe(callback)`` start the sampler thread lazily (at
``settings.sampler_hz``); it stops when nobody subscribes and nobody polled for
``LIVE_LEASE_S`` seconds. Subscribers are called (from the sampler thread) only when the
power changed meaningfully (≥ 0.5 W and ≥ 5 %) or the sensor changed.

Avoided work (shown by ``greenpair energy`` and the tray)::

    get_meter().count("suggestions_avoided")                 # one skipped suggestion
    get_meter().record_saving("prompt_tokens_saved", tokens=812)
    get_meter().record_saving("kv_cache_tokens_reused", tokens=950)
    get_meter().record_saving("embeddings_reused", count=120, joules=3.1)

``joules`` may be left out: it is then estimated from the J per processed token of this
process's recent answers (and stays None before any was measured).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from greenpair.core import messages
from greenpair.core.energy.carbon import grams_co2e, intensity_for
from greenpair.core.energy.ledger import Ledger
from greenpair.core.energy.report import EnergyReport, PowerReading
from greenpair.core.energy.sampler import Sampler
from greenpair.core.energy.sensors import (
    EnergyCounter,
    Probe,
    Sensor,
    SensorUnavailable,
    needs_sampling,
    select_sensor,
)
from greenpair.core.energy.sensors.estimate import cpu_power, system_busy_cpu_s

log = logging.getLogger(__name__)

LIVE_LEASE_S = 10.0
RESELECT_S = 60.0
SETTINGS_TTL_S = 5.0
SUGGESTIONS_AVOIDED = "suggestions_avoided"
PROMPT_TOKENS_SAVED = "prompt_tokens_saved"
KV_CACHE_TOKENS_REUSED = "kv_cache_tokens_reused"
EMBEDDINGS_REUSED = "embeddings_reused"
PowerCallback = Callable[[PowerReading], None]


@dataclass(frozen=True)
class _Snap:
    t: float
    gen: int
    sensor_j: float | None
    proc_s: float
    sys_s: float


@dataclass
class EnergyWindow:
    """An open measurement window; ``report`` is set when it closes."""

    kind: str
    meta: dict[str, Any]
    tokens: int = 0
    report: EnergyReport | None = None
    prompt_tokens: int = 0
    _start: _Snap | None = field(default=None, repr=False)
    _attr_j: float = field(default=0.0, repr=False)
    _attr_ok: bool = field(default=True, repr=False)
    _cpu_s: float = field(default=0.0, repr=False)
    _overlapped: bool = field(default=False, repr=False)


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


def _load_settings() -> Any:
    from greenpair.core.config import Settings, load_settings
    from greenpair.core.errors import GreenpairError

    try:
        return load_settings()
    except GreenpairError:
        return Settings()


class Meter:
    """Process-wide energy meter (use :func:`get_meter`).

    Args:
        sensor: A fixed sensor (tests); None selects the best one of this machine lazily.
        probe: Where to look for sensors when selecting.
        settings: Settings loader (called when needed, so changes apply).
        process_cpu_s: Greenpair's CPU seconds (all threads).
        system_cpu_s: The machine's busy CPU seconds.
        clock: Monotonic clock.
        record: Write closed windows and savings to the ledger.
    """

    def __init__(
        self,
        sensor: Sensor | None = None,
        *,
        probe: Probe | None = None,
        settings: Callable[[], Any] = _load_settings,
        process_cpu_s: Callable[[], float] = time.process_time,
        system_cpu_s: Callable[[], float] = system_busy_cpu_s,
        clock: Callable[[], float] = time.monotonic,
        record: bool = True,
    ) -> None:
        self._fixed_sensor = sensor is not None
        self._probe = probe
        self._load = settings
        self._settings_cache: tuple[float, Any] | None = None
        self._proc = process_cpu_s
        self._sys = system_cpu_s
        self._clock = clock
        self._record = record
        self._lock = threading.RLock()
        self._counter: EnergyCounter | None = EnergyCounter(sensor, clock) if sensor else None
        self._gen = 0
        self._selected_at = 0.0
        self._sensor_failed = False
        self._cpu_model: str | None = None
        self._open: list[EnergyWindow] = []
        self._last: _Snap | None = None
        self._tick_prev: _Snap | None = None
        self._reading: PowerReading | None = None
        self._notified: PowerReading | None = None
        self._subscribers: list[PowerCallback] = []
        self._lease_until = 0.0
        self._sampling_windows = 0
        self._ledger: Ledger | None = None
        self._ledger_warned = False
        self._j_per_token: float | None = None
        self.last_report: EnergyReport | None = None
        self.sampler = Sampler(self._on_tick, self._interval, self._wanted)

    def _settings(self) -> Any:
        """The settings, re-read at most every few seconds (the sampler asks each tick)."""
        now = time.monotonic()
        cached = self._settings_cache
        if cached is None or now - cached[0] > SETTINGS_TTL_S:
            cached = self._settings_cache = (now, self._load())
        return cached[1]

    # -- sensor -----------------------------------------------------------------------
    def _ensure_sensor(self) -> EnergyCounter:
        with self._lock:
            now = self._clock()
            stale = (
                self._counter is not None
                and not self._fixed_sensor
                and not self._open
                and (
                    self._sensor_failed
                    or (
                        self._counter.sensor.name in {"estimate", "battery", "ioreg"}
                        and now - self._selected_at > RESELECT_S
                    )
                )
            )
            if self._counter is None or stale:
                if self._counter is not None:
                    self._counter.sensor.close()
                probe = self._probe or Probe.from_settings(self._settings())
                self._counter = EnergyCounter(select_sensor(probe), self._clock)
                self._gen += 1
                self._selected_at = now
                self._sensor_failed = False
                self._last = self._tick_prev = None
            return self._counter

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
        if self._cpu_model is None:
            from greenpair.core.energy.sensors.estimate import cpu_model

            self._cpu_model = cpu_model()
        setting = float(getattr(self._settings(), "cpu_watts_per_core", 0.0))
        return cpu_power(setting, self._cpu_model).watts_per_thread

    # -- snapshots and attribution ----------------------------------------------------
    def _snapshot(self) -> _Snap:
        counter = self._ensure_sensor()
        try:
            joules: float | None = counter.joules()
        except SensorUnavailable as exc:
            log.info("energy sensor %s failed: %s", counter.sensor.name, exc)
            joules, self._sensor_failed = None, True
        return _Snap(self._clock(), self._gen, joules, self._proc(), self._sys())

    def _advance(self, snap: _Snap) -> None:
        """Close the segment since the last snapshot and split it between open windows."""
        last, self._last = self._last, snap
        if last is None or not self._open:
            return
        k = len(self._open)
        d_proc = max(0.0, snap.proc_s - last.proc_s)
        d_sys = max(0.0, snap.sys_s - last.sys_s)
        share = min(1.0, d_proc / d_sys) if d_sys > 0 else (1.0 if d_proc > 0 else 0.0)
        valid = snap.gen == last.gen and None not in (snap.sensor_j, last.sensor_j)
        d_j = max(0.0, snap.sensor_j - last.sensor_j) if valid else 0.0  # type: ignore[operator]
        for win in self._open:
            win._cpu_s += d_proc / k
            win._attr_j += d_j * share / k
            win._attr_ok = win._attr_ok and valid
            win._overlapped = win._overlapped or k > 1

    def _take(self) -> _Snap:
        with self._lock:
            snap = self._snapshot()
            self._advance(snap)
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
            self._open.append(win)
            sampling = needs_sampling(self._counter.sensor) if self._counter else False
            if sampling:
                self._sampling_windows += 1
        if sampling:
            self.sampler.ensure_running()
        try:
            yield win
        finally:
            with self._lock:
                end = self._take()
                self._open.remove(win)
                if sampling:
                    self._sampling_windows -= 1
                win.report = self._report(win, end)
                self.last_report = win.report
            if sampling:
                self.sampler.wake()
            self._after_window(win.report, record)

    def _report(self, win: EnergyWindow, end: _Snap) -> EnergyReport:
        start = win._start
        assert start is not None
        assert self._counter is not None
        settings = self._settings()
        sensor = self._counter.sensor
        w_thread = self.watts_per_thread()
        same = start.gen == end.gen and None not in (start.sensor_j, end.sensor_j)
        measured = same and win._attr_ok and not sensor.estimated
        if measured:
            joules, system_j = win._attr_j, end.sensor_j - start.sensor_j  # type: ignore[operator]
            name, estimated = sensor.name, False
        else:
            joules = win._cpu_s * w_thread
            system_j = max(end.sys_s - start.sys_s, win._cpu_s) * w_thread
            name, estimated = "estimate", True
        g_per_kwh, _ = intensity_for(settings)
        return EnergyReport(
            kind=win.kind,
            duration_s=max(0.0, end.t - start.t),
            joules=joules,
            sensor=name,
            estimated=estimated,
            tokens=int(win.tokens or 0),
            gco2e=grams_co2e(joules, g_per_kwh),
            meta=win.meta,
            system_joules=system_j,
            share=(joules / system_j) if system_j else None,
            cpu_s=win._cpu_s,
            prompt_tokens=int(win.prompt_tokens or 0),
            g_per_kwh=g_per_kwh,
            overlapped=win._overlapped,
        )

    def _after_window(self, report: EnergyReport, record: bool) -> None:
        processed = report.tokens + report.prompt_tokens
        if report.kind in {"answer", "patch", "suggestion"} and processed and report.joules:
            value = report.joules / processed
            prev = self._j_per_token
            self._j_per_token = value if prev is None else 0.7 * prev + 0.3 * value
        if record and self._record:
            self._write(
                lambda ledger: ledger.add(
                    report.kind, duration_s=report.duration_s, joules=report.joules,
                    sensor=report.sensor, estimated=report.estimated, tokens=report.tokens,
                    system_joules=report.system_joules, gco2e=report.gco2e,
                    meta={**report.meta, "prompt_tokens": report.prompt_tokens,
                          "cpu_s": report.cpu_s, "overlapped": report.overlapped},
                )
            )

    # -- ledger and savings -----------------------------------------------------------
    def ledger(self) -> Ledger:
        """The ledger at the current ``ledger_path()`` (reopened when the path changes)."""
        from greenpair.core.config import ledger_path

        path = ledger_path()
        with self._lock:
            if self._ledger is None or self._ledger.path != path:
                if self._ledger is not None:
                    self._ledger.close()
                self._ledger = Ledger(path)
            return self._ledger

    def _write(self, action: Callable[[Ledger], Any]) -> None:
        from greenpair.core.errors import EnergyError

        try:
            action(self.ledger())
        except EnergyError as exc:
            if not self._ledger_warned:
                self._ledger_warned = True
                messages.warning(f"{exc.message} {exc.hint or ''}".strip())

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
        if joules is None and tokens and self._j_per_token is not None:
            joules = tokens * self._j_per_token
        if self._record:
            self._write(lambda ledger: ledger.add_saving(
                name, count=count, tokens=tokens, joules=joules))

    # -- live power -------------------------------------------------------------------
    def _interval(self) -> float:
        hz = float(getattr(self._settings(), "sampler_hz", 1.0) or 1.0)
        floor = float(getattr(self._counter.sensor, "min_interval_s", 0.0)) if self._counter else 0
        return max(1.0 / max(hz, 0.01), floor)

    def _wanted(self) -> bool:
        return bool(self._subscribers) or self._sampling_windows > 0 or (
            self._clock() < self._lease_until
        )

    def _reading_between(self, prev: _Snap, snap: _Snap) -> PowerReading | None:
        dt = snap.t - prev.t
        if dt <= 0 or snap.gen != prev.gen:
            return None
        d_proc = max(0.0, snap.proc_s - prev.proc_s)
        d_sys = max(0.0, snap.sys_s - prev.sys_s)
        sensor = self.sensor
        if None not in (snap.sensor_j, prev.sensor_j) and not sensor.estimated:
            watts = max(0.0, snap.sensor_j - prev.sensor_j) / dt  # type: ignore[operator]
            share = min(1.0, d_proc / d_sys) if d_sys > 0 else 0.0
            return PowerReading(time.time(), watts, watts * share, sensor.name, False)
        w = self.watts_per_thread()
        return PowerReading(
            time.time(), max(d_sys, d_proc) * w / dt, d_proc * w / dt, "estimate", True
        )

    def _on_tick(self) -> None:
        with self._lock:
            snap = self._take()
            prev, self._tick_prev = self._tick_prev, snap
            if prev is None or snap.t - prev.t > 3 * self._interval() + 1:
                return
            reading = self._reading_between(prev, snap)
            if reading is None:
                return
            self._reading = reading
            notify = self._meaningful(self._notified, reading)
            if notify:
                self._notified = reading
            callbacks = list(self._subscribers) if notify else []
        for callback in callbacks:
            try:
                callback(reading)
            except Exception:  # a subscriber bug must not stop the sampler
                log.exception("energy subscriber failed")

    @staticmethod
    def _meaningful(old: PowerReading | None, new: PowerReading) -> bool:
        if old is None or old.sensor != new.sensor or old.estimated != new.estimated:
            return True
        delta = abs(new.watts - old.watts)
        return delta >= 0.5 and delta >= 0.05 * max(old.watts, 1e-9)

    def live_reading(self) -> PowerReading | None:
        """The latest reading (None until the sampler has ticked twice); starts it."""
        with self._lock:
            self._lease_until = self._clock() + LIVE_LEASE_S
            reading = self._reading
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
            self._subscribers.append(callback)
            current = self._reading
        self.sampler.ensure_running()
        if current is not None:
            callback(current)
        return Subscription(self, callback)

    def unsubscribe(self, callback: PowerCallback) -> None:
        """Stop calling ``callback``."""
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)
        self.sampler.wake()

    def close(self) -> None:
        """Stop the sampler and release the sensor and the ledger."""
        self.sampler.stop()
        with self._lock:
            if self._counter is not None:
                self._counter.sensor.close()
            if self._ledger is not None:
                self._ledger.close()
                self._ledger = None


_meter: Meter | None = None
_meter_lock = threading.Lock()


def get_meter() -> Meter:
    """The process-wide meter."""
    global _meter
    with _meter_lock:
        if _meter is None:
            _meter = Meter()
        return _meter
