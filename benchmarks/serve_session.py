"""A transcript of an ``openai`` client session against a real ``greenpair serve``.

Starts ``greenpair serve`` (tiny model by default) on a free loopback port over a copy of
Greenpair's own ``core/assistant`` package, then with the official ``openai`` package:
lists the models, asks a question (citations in the text and in the ``greenpair``
extension, energy in the header), streams the same kind of answer, completes code in the
middle (FIM), embeds, searches, and shows that a request without the token gets 401.
Bounded: every request has a timeout and the server is stopped at the end.

    nice -n 10 .venv/bin/python benchmarks/serve_session.py [--model ID]
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

SOURCE = Path(__file__).resolve().parents[1] / "app" / "greenpair" / "core" / "assistant"


def _say(title: str, value: object) -> None:
    text = value if isinstance(value, str) else json.dumps(value, indent=2)
    print(f"\n### {title}\n{text}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    args = parser.parse_args()
    import httpx
    import openai

    from greenpair.core.config import models_dir

    work = Path(tempfile.mkdtemp(prefix="greenpair-session-"))
    home, repo = work / "home", work / "assistant"
    home.mkdir()
    (home / "models").symlink_to(models_dir(), target_is_directory=True)
    shutil.copytree(SOURCE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "GREENPAIR_HOME": str(home)}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    token = subprocess.run([sys.executable, "-m", "greenpair", "serve", "token"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    cmd = [sys.executable, "-m", "greenpair", "serve", "--repo", str(repo), "--port",
           str(port), "--model", args.model]
    _say("server", " ".join(["greenpair", *cmd[3:]]))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(work / "serve.log", "wb"))  # noqa: SIM115
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 401:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)  # a subprocess has no readiness event to wait on
        client = openai.OpenAI(base_url=url, api_key=token, max_retries=0, timeout=300)
        _say("GET /v1/models", [m.id for m in client.models.list()])

        raw = client.chat.completions.with_raw_response.create(
            model="greenpair", max_tokens=96,
            messages=[{"role": "user", "content": "How are citations in an answer checked?"}])
        resp = raw.parse()
        _say("POST /v1/chat/completions (content)", resp.choices[0].message.content)
        ext = resp.model_extra["greenpair"]
        _say("greenpair extension: citations", ext["citations"])
        for c in ext["citations"]:
            assert (repo / c["path"]).is_file(), c
        _say("energy", {"X-Greenpair-Energy-J": raw.headers.get("x-greenpair-energy-j"),
                        "X-Greenpair-Energy-Sensor": raw.headers.get(
                            "x-greenpair-energy-sensor"), "extension": ext["energy"]})
        _say("usage", resp.usage.model_dump())

        stream = client.chat.completions.create(
            model="greenpair", max_tokens=64, stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "Where is a patch applied to the files?"}],
            extra_body={"greenpair": {"repo": "assistant", "k": 6}})
        pieces, final = [], None
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
            if chunk.choices and chunk.choices[0].finish_reason:
                final = chunk.model_extra["greenpair"]
        _say(f"streamed chat ({len(pieces)} chunks)", "".join(pieces))
        _say("last chunk's greenpair.citations", final and final["citations"])

        fim = client.completions.create(
            model="greenpair", max_tokens=24,
            prompt="def apply_discount(total, code):\n    if code == 'HALF':\n        return ",
            suffix="\n    return total\n")
        _say("POST /v1/completions with suffix (FIM)", {
            "text": fim.choices[0].text, "finish_reason": fim.choices[0].finish_reason,
            "greenpair": fim.model_extra["greenpair"], "usage": fim.usage.model_dump()})

        emb = client.embeddings.create(model="all-minilm-l6-v2", input=["check citations"])
        _say("POST /v1/embeddings", {"dimensions": len(emb.data[0].embedding)})
        found = httpx.post(f"{url}/search", headers={"Authorization": f"Bearer {token}"},
                           json={"query": "undo the last applied patch", "k": 3},
                           timeout=120).json()
        _say("POST /v1/search", found["files"])

        try:
            openai.OpenAI(base_url=url, api_key="not-the-token", max_retries=0).models.list()
        except openai.AuthenticationError as exc:
            _say("without the token", f"{exc.status_code}: {exc.body}")
        else:
            raise SystemExit("a request without the token was answered")
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
