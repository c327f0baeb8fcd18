"""An OpenAI-compatible model server (llama.cpp server, Ollama, vLLM) as a runtime.

Used only when the user sets ``remote_url``. The host must be this machine or one the
user allow-listed: the egress policy is checked before any connection. Streams with
server-sent events over the standard library's ``http.client`` (no proxy, no new
dependency); closing the generator or setting ``cancel`` drops the connection, which
stops the server's generation.
"""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from greenpair.core.errors import ModelError
from greenpair.core.llm.runtime import GenerationStats, Message
from greenpair.core.llm.textstream import StopFilter
from greenpair.core.privacy import check_host

_QWEN_FIM = ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>")


class RemoteRuntime:
    """A model behind ``/v1/chat/completions`` and ``/v1/completions``.

    Args:
        base_url: The server, e.g. ``http://127.0.0.1:8080`` (``/v1`` is added if missing).
        model: The model name sent to the server.
        allowed_hosts: The user's allow-list (loopback is always allowed).
        n_ctx: The server's context size, for prompt budgeting.
        timeout: Seconds to wait for the server between events.
        api_key: Sent as a bearer token when set.

    Raises:
        PrivacyError: The host is neither loopback nor allow-listed (nothing is opened).
    """

    def __init__(self, base_url: str, *, model: str = "", allowed_hosts: Iterable[str] = (),
                 n_ctx: int = 8192, timeout: float = 120.0, api_key: str = "") -> None:
        self.allowed_hosts = list(allowed_hosts)
        check_host(base_url, self.allowed_hosts)
        parts = urlsplit(base_url.rstrip("/"))
        self._scheme, self._host, self._port = parts.scheme, parts.hostname or "", parts.port
        path = parts.path.rstrip("/")
        self._prefix = path if path.endswith("/v1") else path + "/v1"
        self.base_url = base_url
        self.model_id = model or "remote"
        self.n_ctx = n_ctx
        self.timeout = timeout
        self.api_key = api_key
        self.last_stats = GenerationStats()

    # -- Runtime protocol ----------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """A conservative estimate (3 characters per token): servers differ in tokenizers."""
        return math.ceil(len(text) / 3)

    def fim_prompt(self, prefix: str, suffix: str) -> str:
        """A Qwen-coder FIM prompt (the only FIM spelling assumed for remote models)."""
        name = self.model_id.lower()
        if "qwen" not in name or "coder" not in name:
            raise ModelError(
                f"Fill-in-the-middle is only supported for Qwen2.5-Coder models on a server "
                f"(this one is {self.model_id!r})."
            )
        pre, suf, mid = _QWEN_FIM
        return f"{pre}{prefix}{suf}{suffix}{mid}"

    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int = 512,
                    temperature: float = 0.2, stop: Sequence[str] = (),
                    cancel: threading.Event | None = None) -> Iterator[str]:
        """Stream the reply of ``/v1/chat/completions``."""
        body = {"messages": [{"role": m.role, "content": m.content} for m in messages]}
        return self._stream("/chat/completions", body, max_tokens, temperature, stop, cancel)

    def stream_completion(self, prompt: str, *, max_tokens: int = 128,
                          temperature: float = 0.0, stop: Sequence[str] = (),
                          cancel: threading.Event | None = None) -> Iterator[str]:
        """Stream the text of ``/v1/completions``."""
        return self._stream("/completions", {"prompt": prompt}, max_tokens, temperature, stop,
                            cancel)

    def unload(self) -> None:
        """Nothing to free locally."""

    # -- HTTP ------------------------------------------------------------------------------

    def _connect(self) -> http.client.HTTPConnection:
        check_host(self.base_url, self.allowed_hosts)  # settings may have changed
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=self.timeout)

    def _stream(self, endpoint: str, body: dict[str, Any], max_tokens: int, temperature: float,
                stop: Sequence[str], cancel: threading.Event | None) -> Iterator[str]:
        payload = {**body, "model": self.model_id, "max_tokens": max_tokens,
                   "temperature": temperature, "stream": True,
                   "stream_options": {"include_usage": True}}
        if stop:
            payload["stop"] = list(stop)
        return self._events(endpoint, payload, stop, cancel)

    def _events(self, endpoint: str, payload: dict[str, Any], stop: Sequence[str],
                cancel: threading.Event | None) -> Iterator[str]:
        stats = GenerationStats(stop_reason="length")
        self.last_stats = stats
        start = time.perf_counter()
        conn = self._connect()
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        text = StopFilter(stop)  # servers apply stop too; this also guards partial matches
        try:
            try:
                conn.request("POST", self._prefix + endpoint, json.dumps(payload), headers)
                resp = conn.getresponse()
            except OSError as exc:
                raise ModelError(
                    f"Cannot reach the model server at {self.base_url}: {exc}.",
                    hint="Start the server, or clear it: `greenpair config set remote_url \"\"`.",
                ) from exc
            if resp.status != 200:
                detail = resp.read(500).decode("utf-8", "replace")
                raise ModelError(
                    f"The model server answered HTTP {resp.status}: {detail.strip()}"
                )
            for event in _sse_events(resp):
                if cancel is not None and cancel.is_set():
                    stats.stop_reason = "cancelled"
                    break
                piece = _apply_event(event, stats, start)
                out = text.feed(piece) if piece else ""
                if out:
                    yield out
                if text.stopped:
                    stats.stop_reason = "stop"
                    break
            tail = text.flush()
            if tail:
                yield tail
        except GeneratorExit:
            stats.stop_reason = "cancelled"
            raise
        finally:
            stats.duration_s = time.perf_counter() - start
            conn.close()


def _sse_events(resp: http.client.HTTPResponse) -> Iterator[dict[str, Any]]:
    """Decoded ``data:`` payloads of a server-sent-event stream, up to ``[DONE]``."""
    data: list[str] = []
    while True:
        raw = resp.readline()
        if not raw:
            break
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line.startswith("data:"):
            data.append(line[5:].lstrip())
            continue
        if line or not data:
            continue  # comments, other fields, keep-alives
        joined, data = "\n".join(data), []
        if joined.strip() == "[DONE]":
            return
        try:
            yield json.loads(joined)
        except ValueError:
            raise ModelError(f"The model server sent a malformed event: {joined[:200]!r}") from None


def _apply_event(event: dict[str, Any], stats: GenerationStats, start: float) -> str:
    """Update ``stats`` from one event; return its text."""
    if "error" in event:
        raise ModelError(f"The model server failed: {event['error']}")
    usage = event.get("usage") or {}
    if usage:
        stats.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        stats.completion_tokens = int(usage.get("completion_tokens") or stats.completion_tokens)
        details = usage.get("prompt_tokens_details") or {}
        stats.cached_prompt_tokens = int(details.get("cached_tokens") or 0)
    timings = event.get("timings") or {}  # llama.cpp server
    if timings.get("cache_n") is not None:
        stats.cached_prompt_tokens = int(timings["cache_n"])
    piece = ""
    for choice in event.get("choices") or []:
        delta = choice.get("delta") or {}
        piece += delta.get("content") or choice.get("text") or ""
        reason = choice.get("finish_reason")
        if reason:
            stats.stop_reason = "stop" if reason == "stop" else "length"
    if piece:
        if stats.ttft_s == 0.0:
            stats.ttft_s = time.perf_counter() - start
        if not usage:
            stats.completion_tokens += 1
    return piece
