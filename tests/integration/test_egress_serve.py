"""``greenpair serve`` under strace in a fresh network namespace with only loopback up: a
client in the same namespace chats, searches and embeds over 127.0.0.1, and the server
makes not one connect or send beyond the machine, DNS included."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.egress import (
    IDLE_S,
    STEP_TIMEOUT_S,
    greenpair,
    idle,
    record,
    traced_env,
    traced_process,
)
from tests.helpers.x11 import wait_for

__all__ = ["traced_env"]  # a fixture
pytestmark = [pytest.mark.model, pytest.mark.slow]
PORT = 8765  # the namespace is fresh: nothing else listens in it
CLIENT = """
import json, sys, httpx
base, token = sys.argv[1], sys.argv[2]
auth = {"Authorization": "Bearer " + token}
out = {}
chat = httpx.post(base + "/chat/completions", headers=auth, timeout=300, json={
    "model": "any", "max_tokens": 16,
    "messages": [{"role": "user", "content": "How is the total price of the cart computed?"}]})
out["chat"] = chat.status_code
out["search"] = httpx.post(base + "/search", headers=auth, timeout=120,
                           json={"query": "discount code"}).json()["files"][:1]
out["embeddings"] = httpx.post(base + "/embeddings", headers=auth, timeout=120,
                               json={"model": "all-minilm-l6-v2", "input": "cart"}).status_code
out["refused"] = httpx.get(base + "/models", timeout=30).status_code
print(json.dumps(out))
"""


def test_serve_answers_over_loopback_without_egress(
    tmp_repo: Path, tiny_model_path: Path, traced_env: dict[str, str], tmp_path: Path
) -> None:
    argv = greenpair("serve", "--repo", str(tmp_repo), "--port", str(PORT),
                     "--model", str(tiny_model_path))
    with traced_process(argv, tmp_path, traced_env, name="serve", loopback=True) as running:
        wait_for(lambda: "Greenpair serves" in running.output()
                 or running.proc.poll() is not None,
                 timeout=STEP_TIMEOUT_S, interval=0.2, what="serve to start")
        assert running.proc.poll() is None, running.output()
        token = subprocess.run([*greenpair("serve", "token")], env=traced_env, check=True,
                               capture_output=True, text=True, timeout=60).stdout.strip()
        net = f"/proc/{running.traced_pid()}/ns/net"

        def client() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["nsenter", f"--net={net}", sys.executable, "-c", CLIENT,
                 f"http://127.0.0.1:{PORT}/v1", token],
                env=traced_env, capture_output=True, text=True, timeout=STEP_TIMEOUT_S,
                check=False)

        # uvicorn prints nothing when it listens: retry until it accepts.
        done = wait_for(lambda: (lambda r: r if r.returncode == 0 else None)(client()),
                        timeout=120, interval=1.0, what="serve to accept connections")
        answers = json.loads(done.stdout)
        attempts = idle(running, IDLE_S)
        running.signal(signal.SIGINT)
        code = running.wait()
        attempts = running.egress()
    record("serve (chat, search, embeddings over loopback)", argv, code, attempts)
    [found] = answers.pop("search")
    assert (tmp_repo / found).is_file()
    assert answers == {"chat": 200, "embeddings": 200, "refused": 401}, answers
    assert attempts == [], [a.describe() for a in attempts]
