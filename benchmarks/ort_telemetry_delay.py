"""How long ONNX Runtime's telemetry client waits before it first tries to leave.

Each run starts a fresh Python process with ``ORT_DISABLE_TELEMETRY`` unset (telemetry ON),
loads onnxruntime, opens a session on the embedder's ONNX file, runs one inference and then
idles, traced by strace inside a fresh network namespace (so nothing can leave). The run
ends at the first attempt (or at ``--cap`` seconds) and reports the delay from the
process's start. ``--reuse-home`` keeps one HOME for every run, so ONNX Runtime's offline
event store (``~/.cache/Microsoft/DeveloperTools/.onnxruntime``) carries over, as it does
for a user; by default each run gets a fresh HOME.

    nice -n 15 python benchmarks/ort_telemetry_delay.py --runs 3 --cap 150

The figure sets the audit's observation window (``greenpair/core/audit_steps.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from greenpair.core.config import models_dir
from greenpair.core.egress import read_egress, traced_argv

PROGRAM = """
import sys, time, numpy as np, onnxruntime as ort
session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
feed = {i.name: np.ones((1, 8), dtype=np.int64) for i in session.get_inputs()}
session.run(None, feed)
print("session ready", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _one_run(model: Path, cap: float, home: Path, work: Path, number: int) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(home))
    env.pop("XDG_CACHE_HOME", None)
    trace = work / f"run{number}.trace"
    argv = traced_argv([sys.executable, "-c", PROGRAM, str(model), str(cap)], trace)
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    first: float | None = None
    attempts = []
    while proc.poll() is None and time.monotonic() - started < cap + 30:
        time.sleep(0.25)
        if trace.exists():
            attempts = read_egress(trace)
            if attempts:
                first = time.monotonic() - started
                break
    if proc.poll() is None:
        os.killpg(proc.pid, 9)
        proc.wait()
    return {"run": number, "first_attempt_s": None if first is None else round(first, 1),
            "cap_s": cap, "attempts": [a.describe() for a in attempts[:3]]}


def main() -> None:
    """Run the measurement and print one JSON line per run, then a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cap", type=float, default=150.0, help="seconds per run at most")
    parser.add_argument("--reuse-home", action="store_true")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    model = args.model or next(models_dir().glob("embedder/*/model-int8.onnx"))
    delays = []
    with tempfile.TemporaryDirectory(prefix="ort-telemetry-") as tmp:
        work = Path(tmp)
        shared = work / "home-shared"
        for number in range(1, args.runs + 1):
            home = shared if args.reuse_home else work / f"home{number}"
            home.mkdir(exist_ok=True)
            row = _one_run(model, args.cap, home, work, number)
            print(json.dumps(row), flush=True)
            delays.append(row["first_attempt_s"])
    print(json.dumps({"delays_s": delays, "reuse_home": args.reuse_home}))


if __name__ == "__main__":
    main()
