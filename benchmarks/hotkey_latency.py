"""Latency of the hotkey popup: key press → popup on screen → first suggestion text.

The real app (``greenpair gui``) runs on a virtual X server (Xvfb) with a tray host; a
separate editor process holds code selected with xdotool, and the hotkey is sent with
``xdotool key ctrl+alt+space`` while the editor has focus. Times are read from the app's
test hooks, stamped with the system-wide monotonic clock:

* hotkey → request: the X key grab woke up and the GUI thread took the request;
* hotkey → popup shown: the popup's first paint;
* hotkey → first text: the first suggestion text on screen (completions are shown line
  by line: the stopper holds a line until it knows whether it ends the suggestion).

Baseline, in this process, alternating with the presses (so both see the same machine
load): core's ``suggest()`` on the same prompt and model with no UI, its time to the
first piece; the ratio shows what the hotkey path adds. The first press loads the model
(cold); later ones reuse it and its cached prompt (warm).

    nice .venv/bin/python benchmarks/hotkey_latency.py [--model qwen2.5-coder-1.5b]
        [--runs 5] [--idle 60] [--screenshots docs/screenshots]
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
sys.path.insert(0, str(ROOT))

from tests.helpers.x11 import (  # noqa: E402
    GreenpairApp,
    open_tray_menu,
    tray_host,
    tray_icon,
    wait_for,
    xvfb,
)

CART = '''"""Shopping cart."""

TAX_RATE = 0.2


class Cart:
    """Items a customer is about to buy."""

    def __init__(self):
        self.items = []

    def total_price(self):
        """Sum of price times quantity, with tax."""
        subtotal =
        return round(subtotal * (1 + TAX_RATE), 2)
'''  # the user is writing the missing expression
SELECTED = ('    def total_price(self):\n        """Sum of price times quantity, with tax."""\n'
            "        subtotal =")


def make_repo(root: Path) -> Path:
    """A one-file git repository holding the selected code (so the popup finds context)."""
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "cart.py").write_text(CART)
    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "cart"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def wait_idle(pid: int, timeout: float = 300.0) -> float:
    """Wait until the app's start-up work (indexing the repository) is over: < 5 % CPU
    over a second. Returns the seconds waited."""
    import psutil

    proc = psutil.Process(pid)
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.cpu_percent(interval=1.0) < 5.0:
            break
    return time.monotonic() - t0


def press(app: GreenpairApp, display: object, editor: str) -> tuple[int, dict[str, float]]:
    """Select the editor's text, send the hotkey; the event index and latencies (s)."""
    display.xdotool("windowfocus", "--sync", editor)  # type: ignore[attr-defined]
    display.xdotool("key", "ctrl+a")  # type: ignore[attr-defined]
    seen = len(app.events())
    t0 = time.monotonic()
    display.xdotool("key", "ctrl+alt+space")  # type: ignore[attr-defined]
    request = app.wait_event("requested", after=seen, timeout=30)["t"]
    painted = app.wait_event("painted", after=seen, timeout=30)["t"]
    first = app.wait_event("first_token", "finished", after=seen, timeout=300)
    if first["event"] != "first_token":
        raise SystemExit(f"the popup finished without a suggestion: {app.events()[seen:]}")
    return seen, {"request": request - t0, "shown": painted - t0, "first": first["t"] - t0}


class Baseline:
    """Core's suggest() with no UI, in this process, on the popup's prompt (the file
    around the selection). Runs alternate with the presses so both see the same load."""

    def __init__(self, model: str, repo: Path) -> None:
        from greenpair.core.assistant.suggest.selection_context import find_in_repo
        from greenpair.core.assistant.suggest.suggestion import CURSOR
        from greenpair.core.llm.manager import open_runtime

        match = find_in_repo(SELECTED, repo)
        assert match is not None
        self.text = match.completion_text(CURSOR)
        self.runtime = open_runtime(model)  # loads on first use: the first run is cold

    def run(self) -> float:
        """Seconds to the first piece of the suggestion."""
        from greenpair.core.assistant.suggest.suggestion import suggest

        t0 = time.monotonic()
        stream = suggest(self.text, "complete", runtime=self.runtime)
        next(stream)
        seconds = time.monotonic() - t0
        stream.close()  # type: ignore[attr-defined]  # a generator
        stats = self.runtime.last_stats
        print(f"  baseline: first {seconds:.3f}s; model: {stats.prompt_tokens} prompt tokens "
              f"({stats.cached_prompt_tokens} cached), ttft {stats.ttft_s:.3f}s", flush=True)
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--runs", type=int, default=5, help="Warm presses after the cold one.")
    parser.add_argument("--idle", type=float, default=0.0,
                        help="First measure the app's CPU use while idle for this long (s).")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="Save popup.png and tray-menu.png here.")
    args = parser.parse_args()
    from greenpair.core.config import models_dir
    from greenpair.core.llm.model_store import find_model

    model = find_model(args.model)
    if model is None:
        sys.exit(f"model {args.model} is not provisioned (make setup)")
    real_models = models_dir()
    with tempfile.TemporaryDirectory(prefix="gp-latency-") as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "home"
        home.mkdir()
        (home / "models").symlink_to(real_models, target_is_directory=True)
        repo = make_repo(tmp / "repo")
        with xvfb() as display, tray_host(display):
            app = GreenpairApp(display, home, tmp)
            app.cli("config", "set", "model", str(model))
            ready = app.start("--minimised", "--repo", str(repo))
            assert ready["hotkey"], app.log()
            assert app.proc is not None
            print(f"start-up work (indexing) settled after {wait_idle(app.proc.pid):.1f} s")
            if args.idle:
                import psutil

                proc = psutil.Process(app.proc.pid)
                before = proc.cpu_times()
                time.sleep(args.idle)
                after = proc.cpu_times()
                used = (after.user - before.user) + (after.system - before.system)
                print(f"idle in the tray (icon, hotkey grab, socket) for {args.idle:.0f} s: "
                      f"{used:.2f} CPU s = {100 * used / args.idle:.2f} % of one core")
            out = tmp / "editor.txt"
            editor_proc = subprocess.Popen(
                [sys.executable, "-m", "tests.helpers.x11_editor", str(out), SELECTED],
                env=display.env, cwd=ROOT)
            try:
                editor = wait_for(lambda: display.find_windows("^Test editor$"), timeout=30,
                                  what="the editor")[0]
                display.xdotool("mousemove", "--window", editor, "200", "40", "click", "1")
                results = []
                base_runs = []
                base = Baseline(str(model), repo)
                for i in range(args.runs + 1):
                    seen, latency = press(app, display, editor)
                    results.append(latency)
                    done = app.wait_event("finished", after=seen, timeout=300)
                    if i == args.runs and args.screenshots:
                        args.screenshots.mkdir(parents=True, exist_ok=True)
                        display.screenshot(args.screenshots / "popup.png", crop="840x400+20+40")
                    model_ttft = done.get("ttft_s", float("nan"))
                    print(f"press {i + 1}: " + ", ".join(f"{k} {v:.3f}s" for k, v in latency.items())
                          + f"; model: {done.get('prompt_tokens')} prompt tokens "
                          f"({done.get('cached_prompt_tokens')} cached), ttft {model_ttft:.3f}s; "
                          f"{done['mode']}: {done['text']!r}", flush=True)
                    display.xdotool("key", "Escape")
                    base_runs.append(base.run())
                    time.sleep(0.6)  # past the popup's debounce interval
                if args.screenshots:
                    icon = wait_for(lambda: tray_icon(display), what="the tray icon")
                    display.screenshot(args.screenshots / "tray-icon.png", crop="40x30+1240+0",
                                       scale=300)
                    open_tray_menu(display, app, icon)
                    time.sleep(1.0)  # let the menu paint
                    display.screenshot(args.screenshots / "tray-menu.png",
                                       crop="420x340+860+0")
                    display.xdotool("key", "Escape")
            finally:
                editor_proc.terminate()
                app.stop()
    print(f"\nmodel: {model.name}, runs: 1 cold + {args.runs} warm, "
          f"{os.cpu_count()} CPUs, Xvfb + trayer")
    cold, warm = results[0], results[1:]
    base_cold, base_warm = base_runs[0], statistics.median(base_runs[1:])

    def med(key: str) -> float:
        return statistics.median(r[key] for r in warm)

    print(f"{'':28}{'cold':>10}{'warm (median)':>16}")
    for key, label in (("request", "hotkey → request"), ("shown", "hotkey → popup shown"),
                       ("first", "hotkey → first text")):
        print(f"{label:28}{cold[key]:>9.3f}s{med(key):>15.3f}s")
    print(f"{'baseline: suggest() → first':28}{base_cold:>9.3f}s{base_warm:>15.3f}s")
    print(f"{'ratio first text / baseline':28}{cold['first'] / base_cold:>10.2f}"
          f"{med('first') / base_warm:>16.2f}")


if __name__ == "__main__":
    main()
