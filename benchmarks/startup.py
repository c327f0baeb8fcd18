"""Start-up time of two checkouts, interleaved in one run: ``greenpair --help`` and the
window (offscreen) from the process start to its first shown frame.

Usage::

    python benchmarks/startup.py --base ../wt-base [--rounds 7]

Each round runs both checkouts' commands in alternating order with the same Python and
environment (``PYTHONPATH`` points at each checkout's ``app``); the medians and their
ratio are printed. Nothing is loaded that the user would not load: no model, no index.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WINDOW = """
import sys, time
from PySide6.QtWidgets import QApplication
from greenpair.ui.app import create_application
try:
    from greenpair.ui.window.main_window import MainWindow
except ImportError:  # a checkout from before ui/ was grouped by surface
    from greenpair.ui.main_window import MainWindow
app = create_application()
window = MainWindow()
window.show()
app.processEvents()
window.shutdown()
"""


def timed(cmd: list[str], app_dir: Path, home: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(app_dir), "GREENPAIR_HOME": str(home),
           "QT_QPA_PLATFORM": "offscreen"}
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the other checkout")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    checkouts = {"base": args.base.resolve() / "app", "head": ROOT / "app"}
    commands = {"--help": [sys.executable, "-m", "greenpair", "--help"],
                "window": [sys.executable, "-c", WINDOW]}
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        for app_dir in checkouts.values():  # warm the page cache and .pyc files
            for cmd in commands.values():
                timed(cmd, app_dir, home)
        for r in range(args.rounds):
            order = list(checkouts) if r % 2 == 0 else list(reversed(checkouts))
            for what, cmd in commands.items():
                for name in order:
                    times.setdefault((what, name), []).append(timed(cmd, checkouts[name], home))
    for what in commands:
        base = statistics.median(times[(what, "base")])
        head = statistics.median(times[(what, "head")])
        print(f"{what:8} base {base:6.3f} s   head {head:6.3f} s   head/base {head / base:5.2f}")


if __name__ == "__main__":
    main()
