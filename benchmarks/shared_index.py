"""Two developers against one ``chroma run``: vectors stored once, reused, never deleted.

Makes a git repository of a corpus (pytest 9.0.2 by default) and two clones of it, starts
Chroma's own server (``chroma run``) on a free loopback port, then:

1. developer A indexes with ``--chroma-url`` (embeds everything; the baseline);
2. developer B indexes the same commit from a separate data directory (fetches A's
   vectors instead of embedding);
3. a second project (a small one) is indexed into the same server;
4. A deletes a folder, commits and re-indexes.

Prints, per step, the wall time, the vector store's counters (added, already stored,
fetched) and every collection's size: B's time against A's is what sharing saves, and the
counts show that nothing was stored twice and nothing deleted.

    nice -n 10 .venv/bin/python benchmarks/shared_index.py [--corpus PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_paths import corpus

GIT = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.invalid"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run([*GIT, "-C", str(repo), *args], check=True, capture_output=True)


def _index(repo: Path, home: Path, url: str) -> dict[str, object]:
    env = {**os.environ, "GREENPAIR_HOME": str(home)}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "greenpair", "index", "--repo", str(repo),
                          "--chroma-url", url, "--json", "--quiet"], env=env,
                         capture_output=True, text=True, timeout=3600)
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    stats = json.loads(out.stdout)
    return {"wall_s": round(time.perf_counter() - started, 1),
            "embedded_chunks": stats["embedded_chunks"], **stats["vector_store"]}


def _collections(port: int) -> dict[str, int]:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.HttpClient(host="127.0.0.1", port=port,
                                 settings=Settings(anonymized_telemetry=False))
    return {c.metadata.get("repository", c.name): c.count() for c in client.list_collections()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None,
                        help="default: the pytest 9.0.2 corpus (fetched once)")
    parser.add_argument("--delete", default="src/_pytest/mark",
                        help="Folder developer A deletes in step 4.")
    args = parser.parse_args()
    args.corpus = args.corpus or corpus("pytest-9.0.2")
    from greenpair.core.config import models_dir

    work = Path(tempfile.mkdtemp(prefix="greenpair-shared-"))
    origin, dev_a, dev_b = work / "origin", work / "dev-a", work / "dev-b"
    shutil.copytree(args.corpus, origin)
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], check=True)
    _git(origin, "add", "-A")
    _git(origin, "commit", "-qm", "corpus")
    for clone in (dev_a, dev_b):
        subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    other = work / "billing"
    (other / "billing").mkdir(parents=True)
    (other / "billing" / "invoice.py").write_text(
        'def invoice_number(year, seq):\n    """2026-000123."""\n    return f"{year}-{seq:06d}"\n')
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    _git(other, "add", "-A")
    _git(other, "commit", "-qm", "billing")
    homes = {}
    for name in ("a", "b", "c"):
        homes[name] = work / f"home-{name}"
        homes[name].mkdir()
        (homes[name] / "models").symlink_to(models_dir(), target_is_directory=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    chroma = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path",
                               str(work / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report: dict[str, object] = {"corpus": str(args.corpus)}
    try:
        time.sleep(3)  # chroma run starts in well under a second; no readiness event
        report["1_dev_a"] = _index(dev_a, homes["a"], url)
        report["2_dev_b_same_commit"] = _index(dev_b, homes["b"], url)
        report["3_other_project"] = _index(other, homes["c"], url)
        report["collections_after_3"] = _collections(port)
        _git(dev_a, "rm", "-rq", args.delete)
        _git(dev_a, "commit", "-qm", "delete")
        report["4_dev_a_after_delete"] = _index(dev_a, homes["a"], url)
        report["collections_after_4"] = _collections(port)
        a = report["1_dev_a"]["wall_s"]  # type: ignore[index]
        b = report["2_dev_b_same_commit"]["wall_s"]  # type: ignore[index]
        report["dev_b_time_vs_dev_a"] = round(b / a, 3)
    finally:
        chroma.terminate()
        chroma.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
