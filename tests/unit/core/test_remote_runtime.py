"""The OpenAI-compatible backend against a loopback server speaking the streaming protocol."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from greenpair.core.config import Settings
from greenpair.core.errors import ModelError, PrivacyError
from greenpair.core.llm import manager
from greenpair.core.llm.remote import RemoteRuntime
from greenpair.core.llm.runtime import Message, Runtime


class FakeServer:
    """Streams ``words`` as SSE chunks; records the requests it got."""

    def __init__(self, words: list[str], *, status: int = 200, busy_first: int = 0,
                 specials: tuple[str, ...] = ("<|fim_prefix|>", "<|fim_suffix|>",
                                              "<|fim_middle|>")) -> None:
        self.words = words
        self.status = status
        self.busy_first = busy_first  # answer 503 this many times first
        self.specials = specials  # one token each in the fake vocabulary
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.auth: list[str] = []
        self.disconnected = threading.Event()
        self.gate = threading.Event()  # when cleared, the server waits after 2 chunks
        self.gate.set()

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, body))
                if self.path.startswith("/v1/"):
                    server.auth.append(self.headers.get("Authorization", ""))
                if self.path == "/extras/tokenize":
                    self._json(200, {"tokens": server.tokenize(body["input"])})
                    return
                if server.busy_first > 0:
                    server.busy_first -= 1
                    self._json(503, {"error": "loading"}, {"Retry-After": "0"})
                    return
                if server.status != 200:
                    self.send_response(server.status)
                    msg = b'{"error": "model not found"}'
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                chat = self.path.endswith("/chat/completions")
                try:
                    self._send(": keep-alive comment\n\n")
                    for i, word in enumerate(server.words):
                        if i == 2:
                            server.gate.wait(10)
                        choice = {"delta": {"content": word}} if chat else {"text": word}
                        self._send("data: " + json.dumps({"choices": [choice]}) + "\n\n")
                    usage = {"prompt_tokens": 11, "completion_tokens": len(server.words),
                             "prompt_tokens_details": {"cached_tokens": 7}}
                    final = {"choices": [{"delta": {}, "finish_reason": "stop"}], "usage": usage}
                    self._send("data: " + json.dumps(final) + "\n\n")
                    self._send("data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    server.disconnected.set()

            def _json(self, status: int, data: object,
                      headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _send(self, text: str) -> None:
                self.wfile.write(text.encode())
                self.wfile.flush()

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def tokenize(self, text: str) -> list[int]:
        """A BOS token, then one token per special marker or other non-space character."""
        for special in self.specials:
            text = text.replace(special, f" {special} ")
        out = [1]
        for word in text.split():
            out.extend([7] if word in self.specials else [ord(c) for c in word])
        return out


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(fake: FakeServer) -> str:
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def test_streams_a_chat_reply_and_fills_stats(serve: Any) -> None:
    fake = FakeServer(["Hel", "lo", " world"])
    rt = RemoteRuntime(serve(fake), model="qwen2.5-coder-1.5b")
    assert isinstance(rt, Runtime)
    pieces = list(rt.stream_chat([Message("user", "hi")], max_tokens=20, stop=["\n\n"]))
    assert pieces == ["Hel", "lo", " world"]
    path, body = fake.requests[0]
    assert path == "/v1/chat/completions"
    assert body["stream"] is True
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert (body["max_tokens"], body["stop"], body["model"]) == (20, ["\n\n"], "qwen2.5-coder-1.5b")
    stats = rt.last_stats
    assert (stats.prompt_tokens, stats.cached_prompt_tokens, stats.completion_tokens) == (11, 7, 3)
    assert stats.stop_reason == "stop"
    assert 0 < stats.ttft_s <= stats.duration_s


def test_completion_endpoint_and_client_side_stop(serve: Any) -> None:
    fake = FakeServer(["def f():", "\n    return 1", "\n\nEND", " junk"])
    rt = RemoteRuntime(serve(fake) + "/v1", model="any-name")
    text = "".join(rt.stream_completion(rt.fim_prompt("a", "b"), stop=["END"]))
    assert text == "def f():\n    return 1\n\n"
    path, body = next(r for r in fake.requests if r[0].startswith("/v1/"))
    assert path == "/v1/completions"
    assert body["prompt"] == "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>"
    assert rt.last_stats.stop_reason == "stop"


def test_cancel_mid_stream_drops_the_connection(serve: Any) -> None:
    fake = FakeServer(["one", " two", " three", " four"])
    fake.gate.clear()
    rt = RemoteRuntime(serve(fake))
    cancel = threading.Event()
    stream = rt.stream_chat([Message("user", "count")], cancel=cancel)
    assert next(stream) == "one"
    cancel.set()
    fake.gate.set()
    assert list(stream) == []
    assert rt.last_stats.stop_reason == "cancelled"


def test_closing_the_generator_stops_the_generation(serve: Any) -> None:
    fake = FakeServer(["one", " two", " three"] + [" more"] * 2000)
    fake.gate.clear()
    rt = RemoteRuntime(serve(fake))
    stream = rt.stream_chat([Message("user", "count")])
    assert next(stream) == "one"
    stream.close()
    fake.gate.set()
    assert fake.disconnected.wait(10)  # the server noticed: its generation can stop
    assert rt.last_stats.stop_reason == "cancelled"


def test_http_errors_are_model_errors(serve: Any) -> None:
    rt = RemoteRuntime(serve(FakeServer([], status=404)))
    with pytest.raises(ModelError, match=r"HTTP 404.*model not found"):
        list(rt.stream_chat([Message("user", "hi")]))


def test_unreachable_server_says_how_to_fix_it() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    rt = RemoteRuntime(f"http://127.0.0.1:{port}")
    with pytest.raises(ModelError, match="Cannot reach the model server") as info:
        list(rt.stream_chat([Message("user", "hi")]))
    assert "remote_url" in (info.value.hint or "")


def test_a_host_not_allow_listed_is_refused_before_any_connection(
    no_network: list[object],
) -> None:
    with pytest.raises(PrivacyError, match=r"gpu-box\.example\.com"):
        RemoteRuntime("http://gpu-box.example.com:8080", model="m")
    settings = Settings(remote_url="http://10.1.2.3:11434")
    with pytest.raises(PrivacyError, match=r"10\.1\.2\.3"):
        manager.RuntimeManager().get(settings)
    assert no_network == []  # nothing even tried to resolve or connect


def test_an_allow_listed_host_is_used_by_the_shared_runtime(no_network: list[object]) -> None:
    settings = Settings(remote_url="http://gpu-box.example.com:8080",
                        allowed_hosts=["gpu-box.example.com"], remote_model="m")
    runtimes = manager.RuntimeManager()
    try:
        rt = runtimes.get(settings)
        assert isinstance(rt, RemoteRuntime)
        assert runtimes.get(settings) is rt  # one shared runtime
        with pytest.raises(ModelError, match="Cannot reach"):
            list(rt.stream_chat([Message("user", "hi")]))
        assert no_network  # the connection was attempted (and blocked by the test)
    finally:
        runtimes.release()


def test_fim_is_refused_when_the_server_cannot_say() -> None:
    rt = RemoteRuntime("http://127.0.0.1:9", model="qwen2.5-coder-1.5b")
    with pytest.raises(ModelError, match="no fill-in-the-middle tokens"):
        rt.fim_prompt("a", "b")


def test_fim_follows_the_vocabulary_not_the_name(serve: Any) -> None:
    starcoder = FakeServer([], specials=("<fim_prefix>", "<fim_suffix>", "<fim_middle>"))
    rt = RemoteRuntime(serve(starcoder), model="qwen2.5-coder-in-name-only")
    assert rt.fim_prompt("a", "b") == "<fim_prefix>a<fim_suffix>b<fim_middle>"
    plain = RemoteRuntime(serve(FakeServer([], specials=())), model="qwen2.5-coder")
    with pytest.raises(ModelError, match="no fill-in-the-middle tokens"):
        plain.fim_prompt("a", "b")


def test_tokens_are_counted_by_the_servers_tokenizer(serve: Any) -> None:
    fake = FakeServer([])
    rt = RemoteRuntime(serve(fake), model="m")
    assert rt.count_tokens("one two  three") == 11  # the BOS token is not counted
    assert rt.count_tokens("one two  three") == 11
    assert sum(1 for p, b in fake.requests if b.get("input") == "one two  three") == 1  # cached
    assert rt.probe.exact


def test_a_busy_server_is_asked_again(serve: Any) -> None:
    fake = FakeServer(["ok"], busy_first=2)
    rt = RemoteRuntime(serve(fake), model="m")
    assert "".join(rt.stream_chat([Message("user", "hi")])) == "ok"
    assert sum(1 for p, _ in fake.requests if p == "/v1/chat/completions") == 3
    always = FakeServer(["ok"], busy_first=99)
    with pytest.raises(ModelError, match="HTTP 503"):
        list(RemoteRuntime(serve(always), model="m").stream_chat([Message("user", "hi")]))
    assert sum(1 for p, _ in always.requests if p == "/v1/chat/completions") == 4


def test_the_api_key_comes_from_the_environment_never_the_settings(
        serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from greenpair.core.config import load_settings, save_settings, settings_path
    from greenpair.core.llm.credentials import ENV_VAR

    fake = FakeServer(["ok"])
    url = serve(fake)
    monkeypatch.setenv(ENV_VAR, "sk-secret-123")
    save_settings(Settings(remote_url=url, remote_model="m"))
    runtimes = manager.RuntimeManager()
    try:
        rt = runtimes.get(load_settings())
        assert "".join(rt.stream_chat([Message("user", "hi")])) == "ok"
    finally:
        runtimes.release()
    assert "sk-secret-123" not in settings_path().read_text()
    assert fake.auth == ["Bearer sk-secret-123"]
