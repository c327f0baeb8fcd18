"""An OpenAI-compatible model server (llama.cpp server, Ollama, vLLM) as a runtime.

Used only when the user sets ``remote_url``. The host must be this machine or one the
user allow-listed: the egress policy is checked before any connection. Streams with
server-sent events over the standard library's ``http.client`` (no proxy, no new
dependency); closing the generator or setting ``cancel`` drops the connection, which
stops the server's generation. A busy server (HTTP 429 or 503) is asked again after its
``Retry-After`` or a doubling back-off, at most ``RETRIES`` times.

Token counts, the context size and fill-in-the-middle come from the server itself
(``remote_probe``). The API key is read from the environment or the OS keyring
(``credentials``), never from the settings file. Energy is measured on this machine
only: the server's own draw is not seen (``runs_remotely``).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from greenpair.core.errors import ModelError
from greenpair.core.llm.remote_probe import ServerProbe
from greenpair.core.llm.runtime import GenerationStats, Message
from greenpair.core.llm.textstream import StopFilter
from greenpair.core.privacy import check_host

RETRIES = 3
MAX_RETRY_WAIT_S = 20.0


class RemoteRuntime:
    """A model behind ``/v1/chat/completions`` and ``/v1/completions``.

    Args:
        base_url: The server, e.g. ``http://127.0.0.1:8080`` (``/v1`` is added if missing).
        model: The model name sent to the server.
        allowed_hosts: The user's allow-list (loopback is always allowed).
        n_ctx: The server's context size, for prompt budgeting (0: ask the server).
        timeout: Seconds to wait for the server between events.
        api_key: Sent as a bearer token when set.

    Raises:
        PrivacyError: The host is neither loopback nor allow-listed (nothing is opened).
    """

    def __init__(self, base_url: str, *, model: str = "", allowed_hosts: Iterable[str] = (),
                 n_ctx: int = 0, timeout: float = 120.0, api_key: str = "") -> None:
        self.allowed_hosts = list(allowed_hosts)
        check_host(base_url, self.allowed_hosts)
        parts = urlsplit(base_url.rstrip("/"))
        self._scheme, self._host, self._port = parts.scheme, parts.hostname or "", parts.port
        path = parts.path.rstrip("/")
        self._prefix = path if path.endswith("/v1") else path + "/v1"
        self.base_url = base_url
        self.model_id = model or "remote"
        self._n_ctx = n_ctx
        self.timeout = timeout
        self.api_key = api_key
        self.last_stats = GenerationStats()
        self.runs_remotely = True  # energy figures cover this machine only
        self.last_count_source = ""  # "server usage", "server tokenizer" or "estimate"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.probe = ServerProbe(base_url, model, headers, timeout=min(timeout, 10.0))

    # -- Runtime protocol ----------------------------------------------------------------

    @property
    def n_ctx(self) -> int:
        """The context window: the setting, else what the server says (asked once)."""
        if self._n_ctx <= 0:
            check_host(self.base_url, self.allowed_hosts)
            self._n_ctx = self.probe.context_size()
        return self._n_ctx

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the server's tokenizer (an estimate if it has none)."""
        check_host(self.base_url, self.allowed_hosts)
        return self.probe.count(text)

    def fim_prompt(self, prefix: str, suffix: str) -> str:
        """A FIM prompt in the spelling of the model's own FIM tokens.

        Raises:
            ModelError: The model's vocabulary has no FIM tokens (or the server cannot say).
        """
        check_host(self.base_url, self.allowed_hosts)
        tokens = self.probe.fim_tokens()
        if tokens is None:
            raise ModelError(
                f"The model {self.model_id!r} on {self.base_url} has no fill-in-the-middle "
                "tokens (or the server has no tokenize endpoint to ask)."
            )
        pre, suf, mid = tokens
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
        holder = [self._connect()]  # the connection in use (a retry opens a new one)
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        text = StopFilter(stop)  # servers apply stop too; this also guards partial matches
        text_seen: list[str] = []
        self.last_count_source = "server usage"
        try:
            resp = self._open(holder, endpoint, payload, headers, cancel)
            if resp is None:
                stats.stop_reason = "cancelled"
                return
            for event in _sse_events(resp):
                if cancel is not None and cancel.is_set():
                    stats.stop_reason = "cancelled"
                    break
                piece = _apply_event(event, stats, start)
                if piece:
                    text_seen.append(piece)
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
            holder[0].close()
        self._count_without_usage(stats, payload, "".join(text_seen))

    def _count_without_usage(self, stats: GenerationStats, payload: dict[str, Any],
                             generated: str) -> None:
        """Fill token counts the server did not report (no ``usage`` in the stream) with
        its tokenizer's counts."""
        if stats.prompt_tokens:
            return
        prompt = payload.get("prompt") or "\n".join(
            m["content"] for m in payload.get("messages") or [])
        stats.prompt_tokens = self.probe.count(str(prompt))
        if generated:
            stats.completion_tokens = self.probe.count(generated)
        self.last_count_source = "server tokenizer" if self.probe.exact else "estimate"

    def _open(self, holder: list[http.client.HTTPConnection], endpoint: str,
              payload: dict[str, Any], headers: dict[str, str],
              cancel: threading.Event | None) -> http.client.HTTPResponse | None:
        """POST the request, retrying a busy server; None when cancelled while waiting."""
        conn = holder[0]
        for attempt in range(RETRIES + 1):
            try:
                conn.request("POST", self._prefix + endpoint, json.dumps(payload), headers)
                resp = conn.getresponse()
            except OSError as exc:
                raise ModelError(
                    f"Cannot reach the model server at {self.base_url}: {exc}.",
                    hint="Start the server, or clear it: `greenpair config set remote_url \"\"`.",
                ) from exc
            if resp.status == 200:
                return resp
            detail = resp.read(500).decode("utf-8", "replace")
            if resp.status not in (429, 503) or attempt == RETRIES:
                raise ModelError(
                    f"The model server answered HTTP {resp.status}: {detail.strip()}"
                )
            wait = _retry_after(resp.getheader("Retry-After"), attempt)
            conn.close()
            if cancel is not None:
                if cancel.wait(wait):
                    return None
            else:
                time.sleep(wait)
            conn = self._connect()
            holder[0] = conn
        return None  # pragma: no cover - the loop returns or raises


def _retry_after(header: str | None, attempt: int) -> float:
    """Seconds to wait: the server's ``Retry-After`` (seconds), else 0.5, 1, 2… (capped)."""
    try:
        wait = float(header) if header else -1.0
    except ValueError:
        wait = -1.0
    if wait < 0:
        wait = 0.5 * (2 ** attempt)
    return min(wait, MAX_RETRY_WAIT_S)


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
