"""Resident memory of the real window (offscreen) over a long idle stretch after one question.

Runs ``tests/helpers/window_session.py`` (the window built as ``greenpair gui`` builds it,
on the saved settings of a fresh ``GREENPAIR_HOME`` that links the user's models: the default
model and the default idle unload) on a small git repository: it opens the repository, asks
one question when the index is ready, then stays open ``--minutes``. The process's RSS is
sampled every ``--every`` seconds. Printed as JSON: the samples, the peak after the answer
and the last sample (after the idle unload when the rule freed the model).

    QT_QPA_PLATFORM=offscreen nice -n 15 .venv/bin/python benchmarks/window_rss.py --minutes 30
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Where is the model freed after an idle time?"


def main() -> None:
    """Run the window session and sample its RSS."""
    import psutil

    from greenpair.core.config import data_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--every", type=float, default=5)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--model", default=None, help="default: the settings' (1.5B)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="gp-wrss-"))
    for name in ("models", "cache"):
        if (data_dir() / name).exists():
            (home / name).symlink_to(data_dir() / name)
    if args.model:
        (home / "settings.json").write_text(json.dumps({"model": args.model}))
    repo = Path(tempfile.mkdtemp(prefix="gp-wrss-repo-"))
    shutil.copytree(ROOT / "app/greenpair/core/llm", repo / "llm")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {**os.environ, "GREENPAIR_HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": f"{ROOT / 'app'}{os.pathsep}{ROOT}"}
    linger = args.minutes * 60
    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.window_session", str(repo),
                             QUESTION, str(linger)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    start = time.monotonic()
    samples = []
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            samples.append((round(time.monotonic() - start, 1), watched.memory_info().rss))
        except psutil.Error:
            break
        time.sleep(args.every)
    out = proc.stdout.read() if proc.stdout else ""
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(repo, ignore_errors=True)
    rss = [r for _, r in samples]
    result = {"session": out.strip(), "minutes": args.minutes, "model": args.model or "default",
              "rss_peak_mb": round(max(rss) / 1e6) if rss else None,
              "rss_last_mb": round(rss[-1] / 1e6) if rss else None,
              "samples_mb": [(t, round(r / 1e6)) for t, r in samples]}
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
