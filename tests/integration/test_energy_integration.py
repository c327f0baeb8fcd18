"""The energy layer on real parts: this machine's sensor, real threads, the SQLite ledger,
and a real GGUF model generating inside a window."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from greenpair.core.energy.ledger import Ledger
from greenpair.core.energy.meter import Meter


def spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_overlapping_real_windows_add_up_to_the_process_energy(meter: Meter) -> None:
    started, go = threading.Event(), threading.Event()
    reports = {}

    def indexing() -> None:
        with meter.window("index") as w:
            started.set()
            spin(0.3)
            go.wait(10)
            spin(0.3)
        reports["index"] = w.report

    c0 = time.process_time()
    thread = threading.Thread(target=indexing)
    thread.start()
    started.wait(10)
    with meter.window("answer") as answer:
        spin(0.2)
        go.set()
    thread.join(10)
    used = time.process_time() - c0
    index = reports["index"]
    assert answer.report is not None
    assert answer.report.overlapped
    assert index.overlapped
    total_cpu = index.cpu_s + answer.report.cpu_s
    assert total_cpu == pytest.approx(used, rel=0.15)
    if index.estimated and answer.report.estimated:
        w = meter.watts_per_thread()
        assert index.joules + answer.report.joules == pytest.approx(total_cpu * w, rel=1e-6)
    ledger = Ledger(meter.ledger().path)
    totals = ledger.totals()
    assert totals.by_kind["index"].count == 1
    assert totals.by_kind["answer"].count == 1
    assert totals.joules == pytest.approx(index.joules + answer.report.joules)


def test_live_power_from_the_real_sampler(meter: Meter) -> None:
    got = threading.Event()
    readings = []

    def on_reading(reading) -> None:
        readings.append(reading)
        got.set()

    with meter.subscribe(on_reading):
        spin(0.5)
        assert got.wait(10)
    assert readings[0].sensor == meter.sensor_name or readings[0].estimated
    assert readings[0].watts >= 0
    meter.sampler.stop()
    assert not meter.sampler.running


@pytest.mark.model
def test_window_around_a_real_generation(tiny_model_path: Path, meter: Meter) -> None:
    from greenpair.core.llm.manager import open_runtime
    from greenpair.core.llm.runtime import Message

    runtime = open_runtime(tiny_model_path, n_ctx=512, n_threads=1)
    try:
        with meter.window("answer", model=runtime.model_id) as w:
            text = "".join(runtime.stream_chat(
                [Message("user", "Write a Python function that adds two numbers.")],
                max_tokens=32, temperature=0.0,
            ))
            w.tokens = runtime.last_stats.completion_tokens
            w.prompt_tokens = runtime.last_stats.prompt_tokens
    finally:
        runtime.unload()
    report = w.report
    assert text
    assert report is not None
    assert report.tokens > 0
    assert report.joules is not None
    assert report.joules > 0
    assert report.joules_per_token is not None
    assert report.cpu_s > 0
    assert report.gco2e == pytest.approx(report.joules / 3.6e6 * report.g_per_kwh)
    last = meter.ledger().last("answer")
    assert last is not None
    assert last.tokens == report.tokens
    assert last.meta["model"] == runtime.model_id
