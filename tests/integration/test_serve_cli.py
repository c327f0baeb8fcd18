"""``greenpair serve`` as a process, and Greenpair's remote backend talking to it.

The command is the real console entry point (a subprocess, as an editor would start
it). Greenpair's own ``RemoteRuntime`` is then a client of it: a full queue answers 429
with ``Retry-After`` and the runtime waits and asks again instead of failing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from greenpair.core.energy.meter import Meter
from greenpair.core.llm.remote import RemoteRuntime
from greenpair.core.llm.runtime import Runtime
from greenpair.server.app import create_app
from greenpair.server.services import Limits, Services
from tests.helpers.serving import free_port_and_token, running
from tests.helpers.tiny_runtime import repeatable_runtime

pytestmark = pytest.mark.model


@pytest.fixture
def served_process(tmp_repo: Path, tiny_model_path: Path) -> Iterator[tuple[str, str]]:
    port, token = free_port_and_token()
    proc = subprocess.Popen(
        [sys.executable, "-m", "greenpair", "serve", "--repo", str(tmp_repo), "--port",
         str(port), "--model", str(tiny_model_path)],
        env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 401:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("greenpair serve did not start: " + (proc.stderr.read() if proc.stderr
                                                              else ""))
        time.sleep(0.25)  # a subprocess has no readiness event to wait on
    yield url, token
    proc.terminate()
    assert proc.wait(30) == 0 or proc.returncode < 0


def test_the_command_serves_with_its_token(served_process: tuple[str, str]) -> None:
    url, token = served_process
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{url}/models").status_code == 401
    models = httpx.get(f"{url}/models", headers=headers).json()
    assert models["data"][0]["id"] == "smollm2-135m.gguf"
    found = httpx.post(f"{url}/search", headers=headers, timeout=120,
                       json={"query": "apply a discount code", "k": 3}).json()
    assert found["files"][0] == "src/shop/discounts.py"


def test_a_file_saved_while_serving_is_found(served_process: tuple[str, str],
                                             tmp_repo: Path) -> None:
    url, token = served_process
    headers = {"Authorization": f"Bearer {token}"}
    (tmp_repo / "src" / "shop" / "refunds.py").write_text(
        "def refund_gift_card(order, card):\n"
        "    \"\"\"Refund a gift card payment back onto the card.\"\"\"\n"
        "    card.balance += order.paid\n    return card\n")
    deadline = time.monotonic() + 60
    while True:
        found = httpx.post(f"{url}/search", headers=headers, timeout=120,
                           json={"query": "refund a gift card payment", "k": 3}).json()
        if found["files"][0] == "src/shop/refunds.py" or time.monotonic() > deadline:
            break
        time.sleep(0.5)  # the server's re-index has no event a client can wait on
    assert found["files"][0] == "src/shop/refunds.py", found["files"]


@pytest.fixture(scope="module")
def tiny(tiny_model_path: Path) -> Iterator[Runtime]:
    rt = repeatable_runtime(tiny_model_path, n_ctx=2048)
    yield rt
    rt.unload()


def test_the_remote_backend_waits_out_a_full_queue(tmp_repo: Path, tiny: Runtime) -> None:
    services = Services(repos=[tmp_repo], runtime=tiny, meter=Meter(),
                        limits=Limits(generate_waiting=0))
    app = create_app(services, "gp-token")
    state = app.state.greenpair
    with running(app) as url:
        remote = RemoteRuntime(url, model="tiny", api_key="gp-token", n_ctx=2048)
        other = RemoteRuntime(url, model="tiny", api_key="gp-token", n_ctx=2048)
        first: list[str] = []
        holder = threading.Thread(target=lambda: first.extend(
            other.stream_completion("Once upon a time", max_tokens=48, temperature=0.0)))
        holder.start()
        deadline = time.monotonic() + 60
        while state.generate.running == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # wait until the first request holds the only slot
        text = "".join(remote.stream_completion("def add(a, b):", max_tokens=8))
        holder.join(120)
        assert state.generate.refused >= 1  # the second request got a 429 first...
        assert text  # ...and was answered after waiting
        assert "".join(first)
