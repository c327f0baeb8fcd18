"""What an OpenAI-compatible server can tell about its model: tokens, context, FIM.

Servers differ, so each question tries the endpoints that answer it, remembers which one
worked, and says when none did:

* **tokens**: ``POST /extras/tokenize`` (llama-cpp-python's server), ``POST /tokenize``
  (llama.cpp's server with ``content``; vLLM with ``prompt``). Counts exclude the BOS
  token the server adds. Without any, a conservative estimate (3 characters a token) is
  used and ``exact`` is False.
* **context size**: ``GET /v1/models`` (``max_model_len``: vLLM; ``meta.n_ctx_train``:
  llama.cpp), ``GET /props`` (llama.cpp's ``n_ctx``). Ollama and llama-cpp-python do not
  say: set the ``remote_context_size`` setting (unknown servers get 2,048 tokens, Ollama's
  default window, so nothing is cut silently).
* **fill-in-the-middle**: the model has FIM tokens when each marker of a known spelling
  (Qwen, StarCoder/SmolLM, DeepSeek) is one token in its vocabulary: a question about the
  vocabulary, not the model's name.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import threading
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

UNKNOWN_CONTEXT = 2048
FIM_SPELLINGS = (
    ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),  # Qwen2.5-Coder
    ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),  # StarCoder, SmolLM
    ("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),  # DeepSeek-Coder
)
_CACHE_SIZE = 4096


class ServerProbe:
    """Asks one server about its model (thread-safe; answers are cached).

    Args:
        base_url: The server (with or without ``/v1``).
        model: The model name sent with requests.
        headers: Extra headers (the API key).
        timeout: Seconds per request.
    """

    def __init__(self, base_url: str, model: str, headers: dict[str, str],
                 timeout: float = 10.0) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        self._scheme, self._host, self._port = parts.scheme, parts.hostname or "", parts.port
        path = parts.path.rstrip("/")
        self._v1 = path if path.endswith("/v1") else path + "/v1"
        self._root = self._v1[: -len("/v1")]
        self.model = model
        self.headers = headers
        self.timeout = timeout
        self._lock = threading.Lock()
        self._tokenizer: str | None = None  # the endpoint that worked, "" when none did
        self._bos = 0
        self._counts: dict[str, int] = {}
        self._fim: tuple[str, str, str] | bool | None = False  # False: not asked yet

    # -- HTTP ------------------------------------------------------------------------
    def request(self, method: str, path: str, body: dict[str, Any] | None = None
                ) -> tuple[int, Any]:
        """``(status, decoded JSON or None)``; status 0 when the server cannot be reached."""
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self.timeout)
        headers = {"Content-Type": "application/json", **self.headers}
        try:
            conn.request(method, path, None if body is None else json.dumps(body), headers)
            resp = conn.getresponse()
            raw = resp.read(4 << 20)
            try:
                return resp.status, json.loads(raw)
            except ValueError:
                return resp.status, None
        except OSError:
            return 0, None
        finally:
            conn.close()

    # -- tokens ----------------------------------------------------------------------
    def _tokenize_with(self, endpoint: str, text: str) -> list[int] | None:
        if endpoint == "extras":
            status, data = self.request("POST", self._root + "/extras/tokenize",
                                        {"input": text, "model": self.model})
        elif endpoint == "content":
            status, data = self.request("POST", self._root + "/tokenize", {"content": text})
        else:
            status, data = self.request("POST", self._root + "/tokenize",
                                        {"prompt": text, "model": self.model})
        if status != 200 or not isinstance(data, dict) or not isinstance(data.get("tokens"),
                                                                        list):
            return None
        return [t if isinstance(t, int) else int(t.get("id", 0)) for t in data["tokens"]]

    def _tokenizer_endpoint(self) -> str:
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = ""
                for endpoint in ("extras", "content", "prompt"):
                    empty = self._tokenize_with(endpoint, "")
                    if empty is not None:
                        self._tokenizer, self._bos = endpoint, len(empty)
                        break
                if not self._tokenizer:
                    log.info("the server at %s has no tokenize endpoint; estimating",
                             self._host)
            return self._tokenizer

    @property
    def exact(self) -> bool:
        """Whether token counts come from the server's tokenizer."""
        return bool(self._tokenizer_endpoint())

    def tokens(self, text: str) -> list[int] | None:
        """The server's tokens of ``text`` (without BOS), or None when it cannot say."""
        endpoint = self._tokenizer_endpoint()
        if not endpoint:
            return None
        ids = self._tokenize_with(endpoint, text)
        return None if ids is None else ids[self._bos :]

    def count(self, text: str) -> int:
        """Tokens of ``text``: the server's count, else a conservative estimate."""
        cached = self._counts.get(text)
        if cached is not None:
            return cached
        ids = self.tokens(text)
        n = math.ceil(len(text) / 3) if ids is None else len(ids)
        if len(self._counts) >= _CACHE_SIZE:
            self._counts.clear()
        self._counts[text] = n
        return n

    # -- context and FIM ---------------------------------------------------------------
    def context_size(self) -> int:
        """The server's context window, or ``UNKNOWN_CONTEXT`` when it does not say."""
        status, data = self.request("GET", self._v1 + "/models")
        if status == 200 and isinstance(data, dict):
            for entry in data.get("data") or []:
                if not isinstance(entry, dict):
                    continue
                if self.model and entry.get("id") not in {self.model, None} and len(
                        data["data"]) > 1:
                    continue
                for value in (entry.get("max_model_len"),
                              (entry.get("meta") or {}).get("n_ctx_train")):
                    if isinstance(value, int) and value > 0:
                        return value
        status, data = self.request("GET", self._root + "/props")
        if status == 200 and isinstance(data, dict):
            n = (data.get("default_generation_settings") or {}).get("n_ctx")
            if isinstance(n, int) and n > 0:
                return n
        return UNKNOWN_CONTEXT

    def fim_tokens(self) -> tuple[str, str, str] | None:
        """The FIM markers the model's vocabulary has (one token each), or None."""
        with self._lock:
            known = self._fim
        if known is not False:
            return known  # type: ignore[return-value]
        found = None
        if self._tokenizer_endpoint():
            for spelling in FIM_SPELLINGS:
                if all(len(self.tokens(m) or [0, 0]) == 1 for m in spelling):
                    found = spelling
                    break
        with self._lock:
            self._fim = found
        return found
