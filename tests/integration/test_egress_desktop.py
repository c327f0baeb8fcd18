"""The window and the tray, run for real under strace in a fresh network namespace: the
window opens a repository, indexes it and answers a question; the tray idles under Xvfb
with a tray host. Not one connect or send beyond the machine, DNS included."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.egress import run_traced
from tests.helpers.egress import (
    IDLE_S,
    STEP_TIMEOUT_S,
    idle,
    python_argv,
    record,
    traced_env,
    traced_process,
)
from tests.helpers.x11 import XDisplay, tray_host, wait_for, xvfb

__all__ = ["traced_env"]  # the fixture, shared with the CLI egress tests
pytestmark = [pytest.mark.model, pytest.mark.slow]


def test_the_window_opens_a_repository_and_answers_without_egress(
    tmp_repo: Path, traced_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**traced_env, "QT_QPA_PLATFORM": "offscreen"}
    argv = python_argv("tests.helpers.window_session", str(tmp_repo),
                       "Where is the total price of the cart computed?", str(IDLE_S))
    done = run_traced(argv, tmp_path / "window.trace", env, timeout=STEP_TIMEOUT_S)
    record("window (open, index, ask)", argv, done.exit_code, done.attempts)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["indexed"], done.stderr[-2000:]
    assert result["answer_state"] == "done", (result, done.stderr[-2000:])
    assert done.attempts == [], [a.describe() for a in done.attempts]


@pytest.fixture
def display() -> Iterator[XDisplay]:
    with xvfb() as disp, tray_host(disp):
        yield disp


@pytest.mark.x11
def test_the_tray_idles_and_the_popup_suggests_without_egress(
    display: XDisplay, tmp_repo: Path, traced_env: dict[str, str], greenpair_home: Path,
    tmp_path: Path
) -> None:
    env = {**traced_env, **display.env, "GREENPAIR_HOME": str(greenpair_home),
           "GREENPAIR_TEST_HOOKS": "1", "XDG_CONFIG_HOME": str(tmp_path / "xdg-config")}
    argv = python_argv("greenpair", "gui", "--minimised", "--repo", str(tmp_repo))
    events = greenpair_home / "test-hooks" / "popup.jsonl"

    def event(name: str) -> dict[str, object] | None:
        if running.proc.poll() is not None:
            raise AssertionError(f"Greenpair exited:\n{running.output()}")
        lines = events.read_text().splitlines() if events.exists() else []
        return next((e for e in map(json.loads, lines) if e["event"] == name), None)

    with traced_process(argv, tmp_path, env, name="tray") as running:
        ready = wait_for(lambda: event("desktop_ready"), timeout=STEP_TIMEOUT_S,
                         interval=0.2, what="the tray")
        assert ready["tray"] is True  # embedded in the tray host, window hidden
        assert ready["window"] is False
        attempts = idle(running, IDLE_S)
        # The popup: code selected in X (PRIMARY), `greenpair suggest` (itself traced)
        # asks the running instance, which streams a suggestion from the tiny model.
        display.run("sh", "-c", "printf 'def add(a, b):\\n    return' | "
                    "xclip -selection primary >/dev/null 2>&1")  # xclip stays to serve it
        trigger = python_argv("greenpair", "suggest", "--mode", "complete")
        asked = run_traced(trigger, tmp_path / "suggest-popup.trace", env, timeout=120)
        assert asked.exit_code == 0, asked.stderr
        record("suggest → popup (client)", trigger, asked.exit_code, asked.attempts)
        finished = wait_for(lambda: event("finished"), timeout=STEP_TIMEOUT_S, interval=0.2,
                            what="the popup's suggestion")
        assert finished.get("tokens", 0) > 0, finished  # the model really generated
        running.signal(signal.SIGTERM)
        code = running.wait()
        attempts = running.egress()
    record("tray idle + popup suggestion (Xvfb + trayer)", argv, code, attempts)
    assert asked.attempts == [], [a.describe() for a in asked.attempts]
    assert attempts == [], [a.describe() for a in attempts]
