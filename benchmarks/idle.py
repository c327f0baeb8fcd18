"""The window at rest and while the model writes: idle CPU and event-loop latency.

1. Idle CPU: the real window, open on an indexed repository (watcher running), with
   nothing to do, then with the energy page open, then with it hidden; the process's
   CPU time over ``--seconds`` each (target: < 1 % of one core),
   and every timer event delivered meanwhile, by receiver (target: none of the window's;
   Qt's QPixmapCache flushes itself once after drawing). Baseline in the same
   process: an empty ``QWidget`` for the same time.
2. Event-loop latency: a 10 ms precise ``QTimer`` records how late each tick is, first
   with nothing running (baseline), then while the model answers a question in the
   window (tokens streaming into the chat view). Prints p50 / p95 / max lateness.
3. With ``--compare-threads``: the same question answered in the window by a runtime on
   1 thread (the setting before issue 13: physical cores − 1 here) and by one on the
   thread policy (every physical core while the machine is otherwise idle), alternating
   ``--repeats`` times: answer time and the event loop's lateness of each.

Usage::

    nice python benchmarks/idle.py [--seconds 60] [--model smollm2-135m|qwen2.5-coder-1.5b]
        [--compare-threads [--repeats 3]]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget


class TimerCounter(QObject):
    """Counts the timer events the application delivers, by receiver class."""

    def __init__(self, ignore: QObject) -> None:
        super().__init__()
        self.ignore = ignore
        self.counts: Counter[str] = Counter()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Timer and obj is not self.ignore:
            parent = obj.parent()
            owner = f" in {parent.metaObject().className()}" if parent is not None else ""
            self.counts[f"{obj.metaObject().className()}{owner}"] += 1
        return False


def run_loop(seconds: float, quit_signal: Any = None) -> QTimer:
    """Run the event loop for ``seconds`` or until ``quit_signal`` fires."""
    loop = QEventLoop()
    end = QTimer()
    end.setSingleShot(True)
    end.timeout.connect(loop.quit)
    if quit_signal is not None:
        quit_signal.connect(loop.quit)
    end.start(int(seconds * 1000))
    loop.exec()
    end.stop()
    if quit_signal is not None:
        quit_signal.disconnect(loop.quit)
    return end


def idle_cpu(app: QApplication, seconds: float) -> tuple[float, Counter[str]]:
    """CPU seconds used by the whole process over ``seconds`` of idle event loop."""
    loop = QEventLoop()
    end = QTimer()
    end.setSingleShot(True)
    end.timeout.connect(loop.quit)
    counter = TimerCounter(ignore=end)
    app.installEventFilter(counter)
    c0 = time.process_time()
    end.start(int(seconds * 1000))
    loop.exec()
    cpu = time.process_time() - c0
    app.removeEventFilter(counter)
    return cpu, counter.counts


def lateness(seconds: float, quit_signal: Any = None) -> list[float]:
    """Milliseconds of lateness of each 10 ms tick while the event loop runs."""
    late: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    last = [0]

    def tick() -> None:
        now = clock.nsecsElapsed()
        late.append(max(0.0, (now - last[0]) / 1e6 - 10.0))
        last[0] = now

    timer.timeout.connect(tick)
    clock.start()
    last[0] = clock.nsecsElapsed()
    timer.start()
    run_loop(seconds, quit_signal)
    timer.stop()
    return late


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def compare_threads(window: Any, model: str, repeats: int) -> None:
    """Answer the demo question on 1 thread and on the thread policy, alternating; print
    the answer time and the event loop's lateness of each."""
    from screenshots import QUESTION

    from greenpair.core.config import physical_cores
    from greenpair.core.llm.manager import open_runtime

    runtimes = {"1 thread": open_runtime(model, n_threads=1),
                f"policy ({physical_cores()} cores idle)": open_runtime(model)}
    for rt in runtimes.values():
        rt.load()
    rows: dict[str, list[tuple[float, list[float]]]] = {name: [] for name in runtimes}
    for i in range(repeats):
        names = list(runtimes) if i % 2 == 0 else list(reversed(runtimes))
        for name in names:
            window.assistant.runtime = runtimes[name]
            window.assistant.new_conversation()
            window.input.setPlainText(QUESTION)
            started = time.perf_counter()
            window.ask()
            late = lateness(900.0, window.assistant.busy_changed)
            rows[name].append((time.perf_counter() - started, late))
    print(f"Threads while answering ({repeats} answers each, alternating), model {model}")
    for name, runs in rows.items():
        late = [v for _, values in runs for v in values]
        print(f"  {name:24s} answer median {statistics.median(t for t, _ in runs):6.1f} s  "
              f"lateness p50 {pct(late, 0.5):5.2f}  p95 {pct(late, 0.95):6.2f}  "
              f"max {max(late, default=0):7.2f} ms")
    for rt in runtimes.values():
        rt.unload()


def main() -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--compare-threads", action="store_true",
                        help="also answer on 1 thread and on the thread policy, alternating")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from greenpair.core.config import Settings, models_dir

    real_models = models_dir()
    home = Path(tempfile.mkdtemp(prefix="greenpair-idle-"))
    (home / "models").symlink_to(real_models, target_is_directory=True)
    os.environ["GREENPAIR_HOME"] = str(home)

    from greenpair.ui.app import create_application
    from greenpair.ui.window.caret import REST_AFTER_MS
    from greenpair.ui.window.main_window import MainWindow

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from screenshots import QUESTION, write_demo_repo

    app = create_application([sys.argv[0]])

    blank = QWidget()
    blank.resize(400, 300)
    blank.show()
    run_loop(2.0)
    base_cpu, base_timers = idle_cpu(app, args.seconds)
    blank.close()

    repo = write_demo_repo(home / "corner-shop")
    window = MainWindow(Settings(model=args.model))
    window.show()
    window.open_repo(repo)
    if window.index.running:
        run_loop(600, window.index.finished)
    window.input.setFocus()
    # The user stopped typing: the caret blinks for CaretRest's period, then rests.
    run_loop(REST_AFTER_MS / 1000 + 2.0)
    cpu, timers = idle_cpu(app, args.seconds)

    print(f"Idle CPU over {args.seconds:.0f} s (process time / wall time, one core = 100 %)")
    print(f"  empty QWidget (baseline): {100 * base_cpu / args.seconds:.3f} %  "
          f"timer events: {sum(base_timers.values())} {dict(base_timers)}")
    watching = "on" if window.index.watching else "OFF (no watcher)"
    print(f"  Greenpair window, indexed repo, watcher {watching}: "
          f"{100 * cpu / args.seconds:.3f} %  "
          f"timer events: {sum(timers.values())} {dict(timers)}")
    print(f"  target < 1 %: {'met' if cpu / args.seconds < 0.01 else 'NOT met'}")

    # The energy page open (plots of the ledger), then hidden: it reads the ledger when
    # shown and runs no timer, so both should cost what the window alone costs.
    window.open_energy()
    run_loop(2.0)
    open_cpu, open_timers = idle_cpu(app, args.seconds)
    window.energy_page.hide()
    run_loop(1.0)
    hidden_cpu, hidden_timers = idle_cpu(app, args.seconds)
    for name, used, counts in (("energy page open", open_cpu, open_timers),
                               ("energy page hidden", hidden_cpu, hidden_timers)):
        share = used / args.seconds
        print(f"  Greenpair window + {name}: {100 * share:.3f} %  "
              f"timer events: {sum(counts.values())} {dict(counts)}  "
              f"target < 1 %: {'met' if share < 0.01 else 'NOT met'}")

    idle_late = lateness(5.0)
    window.input.setPlainText(QUESTION)
    started = time.perf_counter()
    window.ask()
    busy_late = lateness(900.0, window.assistant.busy_changed)
    took = time.perf_counter() - started
    turn = window.chat.current
    print(f"Event-loop lateness of a 10 ms timer (ms), model {args.model}")
    for name, values in (("idle (baseline)", idle_late), ("while answering", busy_late)):
        print(f"  {name:16s} ticks {len(values):5d}  p50 {pct(values, 0.5):6.2f}  "
              f"p95 {pct(values, 0.95):6.2f}  max {max(values, default=0):7.2f}  "
              f"mean {statistics.fmean(values) if values else 0:6.2f}")
    if turn is not None:
        print(f"  answer: {turn.state}, {took:.1f} s; {turn.stats}")
    if args.compare_threads:
        compare_threads(window, args.model, args.repeats)
    window.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
