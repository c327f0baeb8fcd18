"""The remote backend against a real OpenAI-compatible server on loopback.

``python -m llama_cpp.server`` (llama-cpp-python's own server) serves the tiny GGUF; the
runtime streams through it, counts tokens with the server's tokenizer, and answers with
checked citations about a real indexed repository.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.assistant.ask.conversation import Answer, AskOptions, Conversation
from greenpair.core.errors import ModelError
from greenpair.core.index import open_index
from greenpair.core.llm.backends import lib_dir
from greenpair.core.llm.manager import open_runtime
from greenpair.core.llm.remote import RemoteRuntime
from greenpair.core.llm.remote_probe import UNKNOWN_CONTEXT
from greenpair.core.llm.runtime import Message

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def llama_server(tiny_model_path: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    import http.client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_model_path),
         "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "4096", "--n_threads", "1"],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"),
        # A portable build keeps its CPU backends as modules in llama_cpp/lib; ggml looks for
        # them beside the executable and in the current folder (Greenpair loads them itself).
        cwd=lib_dir() or None)
    deadline = time.monotonic() + 120
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/v1/models")
            if conn.getresponse().status == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("llama_cpp.server did not start:\n" + log.read_text()[-2000:])
        time.sleep(0.25)  # the server process has no readiness event to wait on
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(30)


def test_tokens_are_counted_by_the_server(llama_server: str, tiny_model_path: Path) -> None:
    rt = RemoteRuntime(llama_server, model="smollm2")
    local = open_runtime(tiny_model_path, n_ctx=512)
    try:
        for text in ("hello world", "def total_price(self):\n    return sum(x)\n", ""):
            assert rt.count_tokens(text) == local.count_tokens(text)
        assert rt.probe.exact
    finally:
        local.unload()
    assert rt.n_ctx == UNKNOWN_CONTEXT  # llama-cpp-python's server does not say
    assert RemoteRuntime(llama_server, model="smollm2", n_ctx=4096).n_ctx == 4096


def test_fim_by_the_vocabulary_not_the_name(llama_server: str, tiny_model_path: Path) -> None:
    # SmolLM2 has no FIM tokens; the local runtime reads the same from the GGUF.
    local = open_runtime(tiny_model_path, n_ctx=512)
    try:
        assert local.fim_tokens() is None
    finally:
        local.unload()
    rt = RemoteRuntime(llama_server, model="qwen2.5-coder-named-but-not")
    with pytest.raises(ModelError, match="no fill-in-the-middle tokens"):
        rt.fim_prompt("a", "b")


def test_streams_and_reports_server_counts(llama_server: str) -> None:
    rt = RemoteRuntime(llama_server, model="smollm2", n_ctx=4096)
    text = "".join(rt.stream_chat([Message("user", "Say hello.")], max_tokens=12))
    stats = rt.last_stats
    assert text
    assert 0 < stats.completion_tokens <= 12
    assert stats.prompt_tokens >= rt.count_tokens("Say hello.")
    assert rt.last_count_source == "server tokenizer"  # this server sends no usage
    assert stats.completion_tokens == rt.count_tokens(text)


def test_answers_about_a_repository_with_valid_citations(llama_server: str,
                                                          tmp_repo: Path) -> None:
    rt = RemoteRuntime(llama_server, model="smollm2", n_ctx=4096)
    index = open_index(tmp_repo)
    conv = Conversation(tmp_repo, runtime=rt, index=index, options=AskOptions(max_tokens=32))
    answer = list(conv.ask("How is the total price of the cart computed?"))[-1]
    index.close()
    assert isinstance(answer, Answer)
    assert answer.citations
    shown = {h.split(":")[0] for h in answer.context}
    for c in answer.citations:
        assert c.valid
        assert c.path in shown
        assert (tmp_repo / c.path).is_file()
    assert answer.prompt_tokens > answer.context_tokens > 0
    assert answer.completion_tokens > 0
    assert answer.energy_scope == "measured on this machine only"
    print("remote answer:", json.dumps({k: answer.to_json()[k] for k in (
        "answer", "citations", "prompt_tokens", "completion_tokens", "energy_j",
        "energy_scope")}))
