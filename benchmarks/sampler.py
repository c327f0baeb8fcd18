"""The energy sampler's own CPU cost (target: < 0.5 % of one core at 1 Hz).

Runs the real process-wide meter (this machine's best sensor) with one subscriber for
``--seconds`` (60 by default) and reports the CPU time of the sampler thread itself,
measured inside the thread with ``time.thread_time`` and cross-checked from outside with
psutil's per-thread times. Beside it, in the same process: the cost of one tick measured
over many direct calls, and what a 1 ms polling loop (the busy-ish alternative a naive
monitor would use) costs over a short stretch.

    .venv/bin/python benchmarks/sampler.py [--seconds 60] [--hz 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time


def thread_cpu_psutil(native_id: int | None) -> float | None:
    """CPU seconds of one thread of this process, as the OS reports it."""
    import psutil

    if native_id is None:
        return None
    for t in psutil.Process().threads():
        if t.id == native_id:
            return t.user_time + t.system_time
    return None


def polling_baseline(seconds: float) -> float:
    """CPU share of one core used by a thread that polls every millisecond."""
    stop = time.monotonic() + seconds
    cpu: list[float] = []

    def poll() -> None:
        c0 = time.thread_time()
        while time.monotonic() < stop:
            time.sleep(0.001)
        cpu.append(time.thread_time() - c0)

    t = threading.Thread(target=poll)
    t.start()
    t.join()
    return cpu[0] / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--hz", type=float, default=1.0)
    args = parser.parse_args()
    os.environ.setdefault("GREENPAIR_HOME", tempfile.mkdtemp(prefix="gp-sampler-bench-"))

    from greenpair.core.config import Settings, save_settings
    from greenpair.core.energy import Meter, PowerReading

    save_settings(Settings(sampler_hz=args.hz))  # read back by the meter like in the app
    meter = Meter(record=False)
    print(f"sensor: {meter.sensor_name} ({meter.sensor.description})"
          f"{' — estimated' if meter.estimated else ''}")

    # One tick's cost, called directly many times (no thread).
    n = 2000
    c0 = time.process_time()
    for _ in range(n):
        meter.tick()
    per_tick_us = (time.process_time() - c0) / n * 1e6

    readings: list[PowerReading] = []
    sub = meter.subscribe(readings.append)
    native = meter.sampler.native_id
    outside0 = thread_cpu_psutil(native)
    ticks0, cpu0 = meter.sampler.ticks, meter.sampler.cpu_s
    wall0 = time.monotonic()
    threading.Event().wait(args.seconds)
    wall = time.monotonic() - wall0
    ticks = meter.sampler.ticks - ticks0
    cpu = meter.sampler.cpu_s - cpu0
    outside1 = thread_cpu_psutil(native)
    sub.close()
    meter.sampler.stop(5)  # waits for the thread
    share = cpu / wall * 100
    print(f"sampler at {args.hz:g} Hz for {wall:.1f} s: {ticks} ticks, "
          f"{len(readings)} notifications")
    print(f"sampler thread CPU (time.thread_time): {cpu * 1000:.2f} ms = {share:.4f} % of one core"
          f"  [target < 0.5 %: {'PASS' if share < 0.5 else 'FAIL'}]")
    if outside0 is not None and outside1 is not None:
        print(f"sampler thread CPU (psutil, from outside): {(outside1 - outside0) * 1000:.2f} ms"
              f" = {(outside1 - outside0) / wall * 100:.4f} % of one core")
    print(f"one tick, called directly {n}×: {per_tick_us:.1f} µs")
    print(f"sampler thread alive after the last unsubscribe: {meter.sampler.running}")
    base = polling_baseline(min(5.0, args.seconds))
    print(f"baseline, a 1 ms polling loop: {base * 100:.2f} % of one core "
          f"({base * 100 / max(share, 1e-9):,.0f}× the sampler)")
    meter.close()


if __name__ == "__main__":
    main()
