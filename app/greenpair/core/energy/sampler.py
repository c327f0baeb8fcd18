"""The background sampler: one daemon thread that ticks while someone wants readings.

It sleeps in ``threading.Event.wait(interval)`` (never a busy loop), ticks once at start
(a baseline), then once per interval; it exits by itself as soon as ``wanted()`` turns
false at a tick or after ``wake()``. ``ensure_running()`` restarts it on demand. The CPU
time the thread itself used (``time.thread_time``) is kept in ``cpu_s`` so benchmarks can
prove it is cheap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Sampler:
    """Runs ``tick`` every ``interval()`` seconds while ``wanted()`` is true.

    Args:
        tick: Work done at each tick (exceptions are logged, never raised).
        interval: Seconds between ticks (read at every tick, so settings apply live).
        wanted: Whether the thread should keep running.
        name: Thread name.
    """

    def __init__(
        self,
        tick: Callable[[], None],
        interval: Callable[[], float],
        wanted: Callable[[], bool],
        name: str = "greenpair-energy-sampler",
    ) -> None:
        self._tick = tick
        self._interval = interval
        self._wanted = wanted
        self._name = name
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop = False
        self.ticks = 0
        self.cpu_s = 0.0  # CPU seconds used by the sampler thread (all runs)
        self.wall_s = 0.0  # seconds the thread existed (all runs)

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        with self._lock:
            return self._thread is not None

    def ensure_running(self) -> None:
        """Start the thread if it is not running."""
        with self._lock:
            if self._thread is not None:
                return
            self._stop = False
            self._wake.clear()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    @property
    def native_id(self) -> int | None:
        """The sampler thread's OS id while it runs (for per-thread CPU figures)."""
        thread = self._thread
        return thread.native_id if thread is not None else None

    def wake(self) -> None:
        """Make the thread re-check ``wanted()`` now (e.g. after the last unsubscribe)."""
        self._wake.set()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and wait for it."""
        with self._lock:
            thread = self._thread
            self._stop = True
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _should_exit(self) -> bool:
        with self._lock:
            if self._stop or not self._wanted():
                self._thread = None
                return True
            return False

    def _safe_tick(self) -> None:
        try:
            self._tick()
        except Exception:  # a sensor hiccup must not kill the thread
            log.exception("energy sampler tick failed")
        self.ticks += 1

    def _run(self) -> None:
        cpu0, t0 = time.thread_time(), time.monotonic()
        cpu_base, wall_base = self.cpu_s, self.wall_s

        def account() -> None:
            self.cpu_s = cpu_base + time.thread_time() - cpu0
            self.wall_s = wall_base + time.monotonic() - t0

        try:
            self._safe_tick()
            account()
            while True:
                self._wake.wait(max(0.05, self._interval()))
                self._wake.clear()
                if self._should_exit():
                    return
                self._safe_tick()
                account()
        finally:
            account()
