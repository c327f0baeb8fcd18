"""Watch mode on real components: a saved file is searchable within 2 seconds."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from greenpair.core.index import open_index
from greenpair.core.index.watcher import Watcher, WatchEvent, watch

DEADLINE_S = 2.0


def test_a_saved_file_is_searchable_within_two_seconds(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    for _ in index.update():
        pass
    events: list[WatchEvent] = []
    arrived = threading.Condition()

    def on_event(event: WatchEvent) -> None:
        with arrived:
            events.append(event)
            arrived.notify_all()

    with watch(tmp_repo, on_event, index=index):
        saved = time.monotonic()
        (tmp_repo / "src/shop/shipping.py").write_text(
            "def shipping_cost(weight_kg):\n    return 4.5 + 1.2 * weight_kg\n"
        )
        found = False
        with arrived:
            while not found:
                left = DEADLINE_S - (time.monotonic() - saved)
                assert left > 0, f"not searchable within {DEADLINE_S} s; events: {events}"
                arrived.wait(left)
                found = index.search("shipping cost by weight", k=1).files == [
                    "src/shop/shipping.py"
                ]
    assert events
    assert all(e.error is None for e in events)
    assert "src/shop/shipping.py" in events[-1].paths
    assert index.stats()["files_pending_embedding"] == 0


def test_ignored_secret_and_git_paths_do_not_trigger_a_refresh(tmp_repo: Path) -> None:
    (tmp_repo / ".gitignore").write_text("build/\n")
    (tmp_repo / "build").mkdir()
    watcher = Watcher(open_index(tmp_repo))
    repo = watcher.repo
    assert watcher._relevant(str(repo / "build/out.py")) is None
    assert watcher._relevant(str(repo / ".env")) is None
    assert watcher._relevant(str(repo / ".git/index")) is None
    assert watcher._relevant(str(repo / "src/shop/cart.py")) == "src/shop/cart.py"
    assert watcher._relevant(str(repo / "src/shop/gone.py")) == "src/shop/gone.py"


def test_an_idle_watcher_uses_no_cpu(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    with watch(tmp_repo, index=index, embed=False) as watcher:
        threads = [t for t in threading.enumerate() if t.name == "greenpair-watch"]
        assert threads
        assert watcher._worker in threads
        before = time.process_time()
        idle = threading.Event()
        idle.wait(0.5)  # measuring idleness needs some idle wall time
        used = time.process_time() - before
    assert used < 0.05, f"{used:.3f} s of CPU in 0.5 s of idling"


def test_on_battery_changes_wait_until_plugged_in(
    tmp_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from greenpair.core.index import watcher as watcher_module

    recorded = Path(__file__).parents[1] / "data/sysfs/power_supply"
    power = tmp_path / "power_supply"
    shutil.copytree(recorded / "discharging", power)
    monkeypatch.setattr(watcher_module, "BATTERY_RECHECK_S", 0.1)
    index = open_index(tmp_repo)
    for _ in index.update(embed=False):
        pass
    events: list[WatchEvent] = []
    arrived = threading.Event()

    def on_event(event: WatchEvent) -> None:
        events.append(event)
        arrived.set()

    with Watcher(index, on_event, embed=False, power_root=power).start():
        (tmp_repo / "src/shop/shipping.py").write_text("def shipping_cost(kg):\n    return kg\n")
        assert not arrived.wait(1.5), "re-indexed while on battery"
        shutil.rmtree(power)
        shutil.copytree(recorded / "charging", power)  # plugged in
        assert arrived.wait(10), "changes were not re-indexed after plugging in"
    assert "src/shop/shipping.py" in events[0].paths
    assert index.search("shipping_cost", k=1).files == ["src/shop/shipping.py"]


def _watch_then_ctrl_c(tmp_repo: Path, home: Path, *python_flags: str,
                       sigint_ignored: bool = False) -> tuple[list[str], str, int]:
    """Start ``greenpair watch --no-embed``, send SIGINT once it says ``Watching``; its
    stderr up to that line, the rest of it, and its exit status."""
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "GREENPAIR_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, *python_flags, "-m", "greenpair", "watch", "--no-embed",
         "--repo", str(tmp_repo)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if sigint_ignored else None,
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if line.startswith("Watching"):
                break
        assert any(line.startswith("Watching") for line in seen), "".join(seen)
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return seen, rest, proc.returncode


def test_ctrl_c_stops_watch_even_when_started_with_sigint_ignored(
    tmp_repo: Path, tmp_path: Path
) -> None:
    """A shell's background job inherits SIGINT ignored; ``greenpair watch`` takes it back
    (the privacy audit stops its traced watch with SIGINT)."""
    _, rest, returncode = _watch_then_ctrl_c(tmp_repo, tmp_path / "home", sigint_ignored=True)
    assert returncode == 0, rest
    assert "Stopping." in rest


def test_watch_wakes_for_ctrl_c_handled_on_another_thread() -> None:
    """The C handler can run on any thread; the waiting main thread still wakes, once.

    ``Event.wait()`` sleeps through such a SIGINT for good (the race that hung a CI run);
    the wait ``greenpair watch`` uses is woken through a pipe. The signal is sent from the
    ``ready`` callback, so it always comes after the wait is set up.
    """
    import subprocess
    import sys

    script = (
        "import signal, threading\n"
        "from greenpair.cli.index import _sleep_until_interrupted\n"
        "def kick():\n"
        "    for _ in range(3):\n"
        "        signal.pthread_kill(threading.get_ident(), signal.SIGINT)\n"
        "try:\n"
        "    _sleep_until_interrupted(lambda: threading.Thread(target=kick).start())\n"
        "except KeyboardInterrupt:\n"
        "    print('stopped')\n"
        "import time\n"
        "time.sleep(0.5)\n"  # a pending handler call must not raise again
        "print('cleaned up')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.split() == ["stopped", "cleaned", "up"], done.stderr


def test_watch_no_embed_never_loads_the_embedder(tmp_repo: Path, tmp_path: Path) -> None:
    """``--no-embed`` keeps the first index lexical too: no model, no torch in memory."""
    seen, rest, returncode = _watch_then_ctrl_c(tmp_repo, tmp_path / "home", "-X", "importtime")
    imported = {line.split("|")[-1].strip() for line in seen if line.startswith("import time:")}
    assert "greenpair.core.index.watcher" in imported, "".join(seen)[-2000:]
    assert not {"torch", "onnxruntime", "chromadb"} & imported
    assert returncode == 0, rest
