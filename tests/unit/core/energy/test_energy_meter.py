"""The meter: windows, overlapping attribution, fallbacks, ledger writes, savings."""

from __future__ import annotations

import threading

import pytest

from greenpair.core.config import Settings
from greenpair.core.energy import Meter
from greenpair.core.energy.sensors.base import SensorKind, SensorUnavailable
from greenpair.core.energy.sensors.estimate import CpuPower, EstimateSensor


class FakeSensor:
    """A controllable sensor (energy counter or power)."""

    name = "fake"
    scope = "system"
    estimated = False
    description = "test sensor"

    def __init__(self, kind: SensorKind = "energy", value: float = 0.0) -> None:
        self.kind = kind
        self.value = value
        self.fail = False

    def read(self) -> float:
        if self.fail:
            raise SensorUnavailable("unplugged")
        return self.value

    def close(self) -> None:
        pass


class World:
    """Fake clocks: process CPU, machine CPU, time."""

    def __init__(self) -> None:
        self.proc = 0.0
        self.sys = 0.0
        self.t = 0.0

    def step(self, sensor: FakeSensor, *, joules: float, proc: float, sys: float, dt: float = 1.0):
        sensor.value += joules
        self.proc += proc
        self.sys += sys
        self.t += dt


def make_meter(sensor, world: World, settings: Settings | None = None, record: bool = False):
    settings = settings or Settings(cpu_watts_per_core=10.0)
    return Meter(
        sensor,
        settings=lambda: settings,
        process_cpu_s=lambda: world.proc,
        system_cpu_s=lambda: world.sys,
        clock=lambda: world.t,
        record=record,
    )


def test_single_window_attributes_cpu_share() -> None:
    sensor, world = FakeSensor(), World()
    meter = make_meter(sensor, world)
    with meter.window("answer", repo="r") as w:
        world.step(sensor, joules=100.0, proc=3.0, sys=4.0, dt=2.0)
        w.tokens = 50
    report = w.report
    assert report is not None
    assert report.sensor == "fake"
    assert not report.estimated
    assert report.system_joules == pytest.approx(100.0)
    assert report.joules == pytest.approx(75.0)
    assert report.share == pytest.approx(0.75)
    assert report.duration_s == pytest.approx(2.0)
    assert report.joules_per_token == pytest.approx(1.5)
    assert report.gco2e == pytest.approx(75.0 / 3.6e6 * 475.0)
    assert report.meta == {"repo": "r"}
    assert report.to_json()["energy_j"] == pytest.approx(75.0)
    assert report.to_json()["energy_sensor"] == "fake"
    assert "J" in report.label()


def test_overlapping_windows_split_shared_time_and_add_up() -> None:
    sensor, world = FakeSensor(), World()
    meter = make_meter(sensor, world)
    with meter.window("index") as index:
        world.step(sensor, joules=100, proc=5, sys=10)  # alone: 100 × 0.5 = 50
        with meter.window("answer") as answer:
            world.step(sensor, joules=100, proc=8, sys=10)  # both: 100 × 0.8 = 80, 40 each
        world.step(sensor, joules=60, proc=3, sys=6)  # alone again: 60 × 0.5 = 30
    assert answer.report is not None
    assert index.report is not None
    assert answer.report.joules == pytest.approx(40.0)
    assert answer.report.system_joules == pytest.approx(100.0)  # its own reading
    assert answer.report.overlapped
    assert index.report.joules == pytest.approx(50 + 40 + 30)
    assert index.report.system_joules == pytest.approx(260.0)
    assert index.report.joules + answer.report.joules == pytest.approx(160.0)
    assert index.report.cpu_s + answer.report.cpu_s == pytest.approx(16.0)


def test_interleaved_windows_on_threads() -> None:
    """Windows opened and closed from different threads in a crossing order."""
    sensor, world = FakeSensor(), World()
    meter = make_meter(sensor, world)
    a_open, b_open, a_closed = threading.Event(), threading.Event(), threading.Event()
    reports = {}

    def run_a() -> None:
        with meter.window("a") as w:
            a_open.set()
            b_open.wait(5)
        reports["a"] = w.report
        a_closed.set()

    t = threading.Thread(target=run_a)
    t.start()
    a_open.wait(5)
    world.step(sensor, joules=10, proc=1, sys=1)
    with meter.window("b") as wb:
        world.step(sensor, joules=20, proc=2, sys=2)
        b_open.set()
        a_closed.wait(5)
        world.step(sensor, joules=30, proc=3, sys=3)
    t.join(5)
    assert reports["a"].joules == pytest.approx(10 + 10)
    assert wb.report is not None
    assert wb.report.joules == pytest.approx(10 + 30)


def test_sensor_failure_falls_back_to_the_estimate() -> None:
    sensor, world = FakeSensor(), World()
    meter = make_meter(sensor, world)
    with meter.window("answer") as w:
        world.step(sensor, joules=100, proc=2, sys=4)
        sensor.fail = True  # e.g. the battery started charging
    assert w.report is not None
    assert w.report.estimated
    assert w.report.sensor == "estimate"
    assert w.report.joules == pytest.approx(2 * 10.0)


def test_estimate_sensor_is_always_labelled_estimated() -> None:
    world = World()
    sensor = EstimateSensor(CpuPower(4.0, "test"), busy_cpu_s=lambda: world.sys)
    meter = make_meter(sensor, world, Settings(cpu_watts_per_core=4.0))  # type: ignore[arg-type]
    assert meter.estimated
    assert meter.sensor_name == "estimate"
    with meter.window("suggestion") as w:
        world.proc += 0.5  # finer than /proc/stat ticks: the machine shows no busy time
    assert w.report is not None
    assert w.report.estimated
    assert w.report.joules == pytest.approx(2.0)
    assert "estimated" in w.report.label()


def test_windows_are_written_to_the_ledger_with_savings() -> None:
    sensor, world = FakeSensor(), World()
    meter = make_meter(sensor, world, record=True)
    with meter.window("answer") as w:
        world.step(sensor, joules=30, proc=1, sys=1)
        w.tokens, w.prompt_tokens = 10, 20
    with meter.window("index"):
        world.step(sensor, joules=5, proc=1, sys=1)
    meter.count("suggestions_avoided")
    meter.count("suggestions_avoided", 2)
    meter.record_saving("prompt_tokens_saved", tokens=300)  # joules from 1 J per token
    meter.record_saving("embeddings_reused", count=40, joules=2.5)
    ledger = meter.ledger()
    totals = ledger.totals()
    assert totals.count == 2
    assert totals.joules == pytest.approx(35.0)
    assert totals.by_kind["answer"].tokens == 10
    assert totals.savings["suggestions_avoided"].count == 3
    assert totals.savings["prompt_tokens_saved"].joules == pytest.approx(300.0)
    assert totals.savings["embeddings_reused"].joules == pytest.approx(2.5)
    last = ledger.last("answer")
    assert last is not None
    assert last.joules == pytest.approx(30.0)
    assert last.meta["prompt_tokens"] == 20
    meter.close()


def test_window_closes_on_exception_and_generator_abandon() -> None:
    sensor, world = FakeSensor(), World()
    meter = make_meter(sensor, world)
    with pytest.raises(RuntimeError), meter.window("patch") as w:
        raise RuntimeError("boom")
    assert w.report is not None

    def gen():
        with meter.window("answer") as w2:
            holder.append(w2)
            yield 1
            yield 2

    holder: list = []
    g = gen()
    next(g)
    g.close()  # cancel between yields
    assert holder[0].report is not None
    assert meter._open == []
