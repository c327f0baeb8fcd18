"""Resident memory of ``greenpair serve`` over a long idle stretch, and the next question's cost.

Starts ``greenpair serve`` on a small git repository (a copy of Greenpair's ``core/llm``)
in a fresh ``GREENPAIR_HOME`` (the models and the embedder linked from the user's data
directory, so the settings are the defaults unless ``--idle-s`` writes one), then:

* minute ``--ask-at``: question A (the first: the model loads), then at once question B
  (the warm first token: same server, model loaded, B's prompt never seen);
* every ``--every`` seconds: the server's RSS (psutil, the process and its children);
* ``--reask-before`` seconds before the end: question B again, which finds the model
  unloaded if the idle rule freed it (its first token includes the load).

Printed as JSON: the RSS samples, each question's client-side time to first streamed
token and the server's ``model_load_s``, RSS before and after the unload, and B's reload
time over its warm time. Run it under ``nice``.

    nice -n 15 .venv/bin/python benchmarks/serve_rss.py --minutes 30 --out rss.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUESTION_A = "How does the model manager pick the runtime for the settings?"
QUESTION_B = "Where is the model freed after an idle time?"


def _home(idle_s: int | None) -> Path:
    """A fresh data directory that reuses the user's models and embedder."""
    from greenpair.core.config import data_dir

    real = data_dir()
    home = Path(tempfile.mkdtemp(prefix="gp-rss-"))
    for name in ("models", "cache"):
        if (real / name).exists():
            (home / name).symlink_to(real / name)
    if idle_s is not None:
        (home / "settings.json").write_text(json.dumps({"unload_after_idle_s": idle_s}))
    return home


def _repo() -> Path:
    repo = Path(tempfile.mkdtemp(prefix="gp-rss-repo-"))
    shutil.copytree(ROOT / "app/greenpair/core/llm", repo / "llm")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def _rss(pid: int) -> int:
    import psutil

    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return int(total)


def _ask(port: int, token: str, question: str) -> dict[str, Any]:
    """One streamed chat question; the client's first-token time and the server's load."""
    import httpx

    began = time.perf_counter()
    first = None
    load_s = None
    body = {"model": "greenpair", "stream": True, "max_tokens": 48,
            "messages": [{"role": "user", "content": question}]}
    with httpx.stream("POST", f"http://127.0.0.1:{port}/v1/chat/completions", json=body,
                      headers={"Authorization": f"Bearer {token}"}, timeout=600) as resp:
        resp.raise_for_status()
        for line in resp.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            delta = (chunk.get("choices") or [{}])[0].get("delta", {}).get("content")
            if delta and first is None:
                first = time.perf_counter() - began
            if "greenpair" in chunk:
                load_s = chunk["greenpair"].get("model_load_s")
    return {"question": question, "ttft_s": round(first or 0.0, 3),
            "total_s": round(time.perf_counter() - began, 3), "model_load_s": load_s,
            "at_s": None}


def _wait_up(port: int, token: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    for _ in range(600):
        if proc.poll() is not None:
            sys.exit(f"serve exited with {proc.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/models",
                      headers={"Authorization": f"Bearer {token}"}, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(1)
    sys.exit("serve did not start")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start serve, sample, ask, and return the figures."""
    home, repo = _home(args.idle_s), _repo()
    env = {**os.environ, "GREENPAIR_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    cmd = [sys.executable, "-m", "greenpair", "serve", "--repo", str(repo),
           "--port", str(args.port), "--model", args.model]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    token_file = home / "serve-token"
    samples: list[tuple[float, int]] = []
    asks: list[dict[str, Any]] = []
    try:
        for _ in range(300):
            if token_file.exists() and token_file.read_text().strip():
                break
            time.sleep(1)
        token = token_file.read_text().strip()
        _wait_up(args.port, token, proc)
        start = time.monotonic()
        end = start + args.minutes * 60
        asked = reasked = False
        while time.monotonic() < end:
            now = time.monotonic() - start
            samples.append((round(now, 1), _rss(proc.pid)))
            if not asked and now >= args.ask_at * 60:
                asked = True
                for q in (QUESTION_A, QUESTION_B):
                    asks.append({**_ask(args.port, token, q), "at_s": round(now, 1)})
                    samples.append((round(time.monotonic() - start, 1), _rss(proc.pid)))
            if not reasked and now >= args.minutes * 60 - args.reask_before:
                reasked = True
                asks.append({**_ask(args.port, token, QUESTION_B), "at_s": round(now, 1)})
                samples.append((round(time.monotonic() - start, 1), _rss(proc.pid)))
            time.sleep(args.every)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(repo, ignore_errors=True)
    return _summary(args, samples, asks)


def _summary(args: argparse.Namespace, samples: list[tuple[float, int]],
             asks: list[dict[str, Any]]) -> dict[str, Any]:
    after_answer = [rss for t, rss in samples if asks and t >= asks[1]["at_s"]]
    peak = max(after_answer) if after_answer else None
    idle_end = [rss for t, rss in samples if len(asks) > 2 and t < asks[2]["at_s"]]
    warm, reload = (asks[1]["ttft_s"], asks[2]["ttft_s"]) if len(asks) > 2 else (None, None)
    return {"model": args.model, "idle_s": args.idle_s or "default", "minutes": args.minutes,
            "rss_first_mb": round(samples[0][1] / 1e6) if samples else None,
            "rss_peak_loaded_mb": round(peak / 1e6) if peak else None,
            "rss_after_unload_mb": round(idle_end[-1] / 1e6) if idle_end else None,
            "asks": asks, "reload_over_warm_ttft": round(reload / warm, 2)
            if warm and reload else None,
            "samples_mb": [(t, round(r / 1e6)) for t, r in samples]}


def main() -> None:
    """Parse, run, write and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--ask-at", type=float, default=1)
    parser.add_argument("--reask-before", type=float, default=60, help="seconds")
    parser.add_argument("--every", type=float, default=5)
    parser.add_argument("--idle-s", type=int, default=None, help="default: the settings'")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
