"""The live-power sampler: lazy start, stop when nobody listens, no busy loop."""

from __future__ import annotations

import threading
import time

import pytest

from greenpair.core.config import Settings
from greenpair.core.energy import Meter, PowerReading
from greenpair.core.energy.sampler import Sampler
from tests.unit.core.energy.test_energy_meter import FakeSensor, World, make_meter


def _thread(meter: Meter) -> threading.Thread | None:
    return meter.sampler._thread


def test_ticks_notify_only_meaningful_changes() -> None:
    sensor, world = FakeSensor(), World()
    meter = make_meter(sensor, world)
    seen: list[PowerReading] = []
    meter._subscribers.append(seen.append)  # drive ticks by hand, no thread
    meter._on_tick()  # baseline
    for watts in (10.0, 10.2, 10.4, 15.0, 15.1):
        world.step(sensor, joules=watts, proc=0.5, sys=1.0)
        meter._on_tick()
    assert [round(r.watts, 1) for r in seen] == [10.0, 15.0]
    assert seen[-1].greenpair_watts == pytest.approx(7.5)
    assert meter._reading is not None
    assert meter._reading.watts == pytest.approx(15.1)


def test_subscribe_starts_and_unsubscribe_stops_the_thread() -> None:
    sensor = FakeSensor()
    world = World()
    settings = Settings(sampler_hz=20.0)
    meter = Meter(sensor, settings=lambda: settings, process_cpu_s=lambda: world.proc,
                  system_cpu_s=lambda: world.sys, record=False)
    assert _thread(meter) is None
    got = threading.Event()

    def on_reading(reading: PowerReading) -> None:
        got.set()

    sub = meter.subscribe(on_reading)
    thread = _thread(meter)
    assert thread is not None
    assert thread.is_alive()
    sensor.value += 50.0
    assert got.wait(5), "no reading delivered"
    sub.close()
    thread.join(5)
    assert not thread.is_alive()
    assert _thread(meter) is None


def test_live_watts_lease_expires() -> None:
    sensor, world = FakeSensor(), World()
    settings = Settings(sampler_hz=20.0)
    meter = Meter(sensor, settings=lambda: settings, process_cpu_s=lambda: world.proc,
                  system_cpu_s=lambda: world.sys, clock=lambda: world.t, record=False)
    assert meter.live_watts() is None  # first call starts the sampler
    thread = _thread(meter)
    assert thread is not None
    world.t += 100.0  # nobody polled for longer than the lease
    meter.sampler.wake()
    thread.join(5)
    assert not thread.is_alive()


def test_power_sensor_keeps_sampler_running_during_windows() -> None:
    sensor = FakeSensor(kind="power", value=20.0)
    world = World()
    settings = Settings(sampler_hz=50.0, cpu_watts_per_core=4.0)
    meter = Meter(sensor, settings=lambda: settings, process_cpu_s=lambda: world.proc,
                  system_cpu_s=lambda: world.sys, record=False)
    with meter.window("answer") as w:
        thread = _thread(meter)
        assert thread is not None
        deadline = time.monotonic() + 5
        while meter.sampler.ticks < 3 and time.monotonic() < deadline:
            threading.Event().wait(0.02)
        world.proc += 1.0
        world.sys += 1.0
    thread.join(5)
    assert not thread.is_alive()
    assert w.report is not None
    assert w.report.system_joules == pytest.approx(20.0 * w.report.duration_s, rel=0.05)


def test_sampler_sleeps_instead_of_spinning() -> None:
    ticks = []
    sampler = Sampler(lambda: ticks.append(1), lambda: 0.05, lambda: True)
    sampler.ensure_running()
    threading.Event().wait(0.6)
    sampler.stop()
    assert 3 <= len(ticks) <= 20
    assert sampler.cpu_s < 0.05  # a busy loop would burn ~0.6 s of CPU here
    assert not sampler.running


def test_tick_errors_do_not_kill_the_thread() -> None:
    calls = []

    def tick() -> None:
        calls.append(1)
        raise OSError("sensor hiccup")

    sampler = Sampler(tick, lambda: 0.05, lambda: True)
    sampler.ensure_running()
    deadline = time.monotonic() + 5
    while len(calls) < 3 and time.monotonic() < deadline:
        threading.Event().wait(0.02)
    sampler.stop()
    assert len(calls) >= 3
