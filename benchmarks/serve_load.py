"""``greenpair serve`` under load on loopback: search throughput and concurrent chat streams.

Starts the real server (``greenpair serve`` in a subprocess, tiny model by default) on a
free loopback port, then:

1. **search**: ``--clients`` (8) threads POST ``/v1/search`` with real commit messages of
   the pytest dev set for ``--seconds`` (60); reports requests/s, p50/p95/max latency and
   failures. Baseline in the same process: the same queries through ``RepoIndex.search``
   on one thread, no HTTP (what the server adds, and what concurrency buys on this CPU).
2. **chat**: ``--streams`` (4) ``openai`` clients stream an answer at once; reports each
   stream's time to first token, duration, tokens and failures, the order in which the
   streams were served against the order they arrived, and Jain's fairness index of the
   streams' generation speeds (1.0: equal). Baseline: one stream alone.

Bounded (every phase has a deadline and the server is stopped at the end, whatever
happens). The machine is shared: run it niced::

    nice -n 10 .venv/bin/python benchmarks/serve_load.py [--repo PATH] [--model ID]
        [--seconds 60] [--clients 8] [--streams 4] [--max-tokens 48]

The index of ``--repo`` is built on the first run in ``--home`` and reused afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_paths import BENCH, corpus

DEV_SET = BENCH / "pytest-9.0.2.jsonl"
QUESTION = "Which code decides whether a test is skipped? {n}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _queries(limit: int = 150) -> list[str]:
    rows = [json.loads(line) for line in DEV_SET.read_text().splitlines() if line.strip()]
    return [r["query"][:300] for r in rows[:limit]]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["GREENPAIR_HOME"] = str(home)
    return env


def _prepare_home(home: Path) -> None:
    """A benchmark data dir with the provisioned models linked in."""
    home.mkdir(parents=True, exist_ok=True)
    models = home / "models"
    if not models.exists():
        from greenpair.core.config import models_dir

        models.symlink_to(models_dir(), target_is_directory=True)


def _start_server(args: argparse.Namespace, port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "greenpair", "serve", "--repo", str(args.repo),
           "--port", str(port), "--model", args.model, "--queue", str(args.streams + 4)]
    return subprocess.Popen(cmd, env=_env(args.home), stdout=subprocess.DEVNULL,
                            stderr=open(args.home / "serve.log", "wb"))


def _wait_ready(url: str, token: str, proc: subprocess.Popen[bytes], limit_s: float) -> None:
    import httpx

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); see its log")
        try:
            if httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {token}"},
                         timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)  # a subprocess has no readiness event to wait on
    raise SystemExit("the server did not start in time")


def search_load(url: str, token: str, queries: list[str], clients: int,
                seconds: float) -> dict[str, object]:
    """``clients`` threads searching for ``seconds``."""
    import httpx

    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(offset: int) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            i = offset
            while time.monotonic() < stop_at:
                q = queries[i % len(queries)]
                i += clients
                t0 = time.perf_counter()
                try:
                    r = http.post(f"{url}/search", json={"query": q, "k": 10})
                    ok = r.status_code == 200 and bool(r.json().get("files"))
                    why = f"HTTP {r.status_code}"
                except httpx.HTTPError as exc:
                    ok, why = False, repr(exc)
                dt = time.perf_counter() - t0
                with lock:
                    (latencies.append(dt) if ok else failures.append(why))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    wall = time.perf_counter() - started
    return {"clients": clients, "seconds": round(wall, 1), "requests": len(latencies),
            "rps": round(len(latencies) / wall, 2),
            "p50_ms": round(1000 * _pct(latencies, 0.5), 1),
            "p95_ms": round(1000 * _pct(latencies, 0.95), 1),
            "max_ms": round(1000 * max(latencies, default=float("nan")), 1),
            "failures": len(failures), "failure_kinds": sorted(set(failures))[:5]}


def search_baseline(args: argparse.Namespace, queries: list[str], seconds: float
                    ) -> dict[str, object]:
    """The same queries in this process, one thread, no HTTP."""
    os.environ["GREENPAIR_HOME"] = str(args.home)
    from greenpair.core.index import open_index

    index = open_index(args.repo)
    index.search(queries[0])
    latencies = []
    stop_at = time.monotonic() + seconds
    i = 0
    while time.monotonic() < stop_at:
        t0 = time.perf_counter()
        index.search(queries[i % len(queries)], k=10)
        latencies.append(time.perf_counter() - t0)
        i += 1
    index.close()
    wall = sum(latencies)
    return {"clients": 1, "requests": len(latencies), "rps": round(len(latencies) / wall, 2),
            "p50_ms": round(1000 * _pct(latencies, 0.5), 1),
            "p95_ms": round(1000 * _pct(latencies, 0.95), 1)}


def chat_streams(url: str, token: str, streams: int, max_tokens: int,
                 limit_s: float) -> dict[str, object]:
    """``streams`` openai clients streaming at once (arrivals 200 ms apart)."""
    import openai

    results: list[dict[str, object]] = [{} for _ in range(streams)]
    t_zero = time.perf_counter()

    clients = [openai.OpenAI(base_url=url, api_key=token, max_retries=0, timeout=limit_s)
               for _ in range(streams)]  # made first: a slow client start would reorder them

    def worker(n: int) -> None:
        client = clients[n]
        sent = time.perf_counter()
        first = None
        pieces = 0
        citations = 0
        try:
            stream = client.chat.completions.create(
                model="greenpair", messages=[{"role": "user",
                                              "content": QUESTION.format(n=n)}],
                max_tokens=max_tokens, stream=True, stream_options={"include_usage": True})
            tokens = 0
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    pieces += 1
                    if first is None:
                        first = time.perf_counter()
                if chunk.choices and chunk.choices[0].finish_reason:
                    citations = len((chunk.model_extra or {}).get("greenpair", {})
                                    .get("citations", []))
                if chunk.usage is not None:
                    tokens = chunk.usage.completion_tokens
            end = time.perf_counter()
            assert first is not None
            results[n] = {"ok": True, "sent_s": sent - t_zero, "ttft_s": first - sent,
                          "first_s": first - t_zero, "duration_s": end - sent,
                          "tokens": tokens, "gen_tok_s": tokens / max(end - first, 1e-6),
                          "citations": citations}
        except Exception as exc:  # noqa: BLE001 - a failure is a result here
            results[n] = {"ok": False, "error": repr(exc)[:200]}

    threads = []
    for n in range(streams):
        t = threading.Thread(target=worker, args=(n,))
        t.start()
        threads.append(t)
        time.sleep(0.2)  # distinct arrival order
    for t in threads:
        t.join(limit_s + 30)
    ok = [r for r in results if r.get("ok")]
    rates = [float(r["gen_tok_s"]) for r in ok]  # type: ignore[arg-type]
    jain = (sum(rates) ** 2 / (len(rates) * sum(x * x for x in rates))) if rates else 0.0
    served = sorted(range(len(results)), key=lambda i: results[i].get("first_s", 1e9))
    return {"streams": streams, "failures": streams - len(ok),
            "ttft_s": [round(float(r["ttft_s"]), 2) for r in ok],  # type: ignore[arg-type]
            "duration_s": [round(float(r["duration_s"]), 2) for r in ok],  # type: ignore[arg-type]
            "tokens": [r["tokens"] for r in ok], "citations": [r["citations"] for r in ok],
            "served_in_arrival_order": served == list(range(len(results))),
            "jain_fairness_gen_speed": round(jain, 3),
            "errors": [r.get("error") for r in results if not r.get("ok")]}


def _show(name: str, result: dict[str, object]) -> dict[str, object]:
    """Print a phase's figures as soon as they are known (one JSON line)."""
    print(json.dumps({name: result}), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=None,
                        help="default: the pytest 9.0.2 corpus (fetched once)")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--home", type=Path, default=Path("/tmp/greenpair-bench-serve"))
    parser.add_argument("--start-limit", type=float, default=1800.0,
                        help="Seconds allowed for start-up (the first run builds the index).")
    args = parser.parse_args()
    args.repo = args.repo or corpus("pytest-9.0.2")
    _prepare_home(args.home)
    queries = _queries()
    token = subprocess.run([sys.executable, "-m", "greenpair", "serve", "token"],
                           env=_env(args.home), capture_output=True, text=True,
                           check=True).stdout.strip()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1"
    proc = _start_server(args, port)
    report: dict[str, object] = {"repo": str(args.repo), "model": args.model,
                                 "cpus": os.cpu_count()}
    try:
        t0 = time.perf_counter()
        _wait_ready(url, token, proc, args.start_limit)
        report["startup_s"] = round(time.perf_counter() - t0, 1)
        chat_streams(url, token, 1, 4, 300)  # load the model, warm the caches
        report["chat_alone"] = _show("chat_alone", chat_streams(url, token, 1,
                                                                args.max_tokens, 300))
        report["chat_concurrent"] = _show("chat_concurrent", chat_streams(
            url, token, args.streams, args.max_tokens, 600))
        report["search_http"] = _show("search_http", search_load(
            url, token, queries, args.clients, args.seconds))
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    report["search_in_process_baseline"] = search_baseline(args, queries,
                                                           min(args.seconds, 20.0))
    base = report["search_in_process_baseline"]
    http = report["search_http"]
    report["search_rps_ratio_vs_baseline"] = round(
        float(http["rps"]) / max(float(base["rps"]), 1e-9), 2)  # type: ignore[index]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
