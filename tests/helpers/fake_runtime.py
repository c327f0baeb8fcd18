"""A deterministic runtime for unit tests of the logic built on top of a model.

``FakeRuntime`` is a real implementation of the ``Runtime`` protocol (not a mock): it
streams queued replies in small pieces, honours ``cancel``, ``max_tokens`` and ``stop``,
counts tokens by whitespace, reuses a "cache" of the previous prompt's common prefix, and
fills ``last_stats`` like the llama backend does.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence

from greenpair.core.errors import ModelError
from greenpair.core.llm.runtime import GenerationStats, Message

_PIECE = re.compile(r"\s*\S+|\s+")


def split_pieces(text: str) -> list[str]:
    """Split ``text`` into whitespace-led words: the fake's "tokens" (joined, they give ``text``)."""
    return _PIECE.findall(text)


def format_messages(messages: Sequence[Message]) -> str:
    """The plain prompt the fake "sees" for a chat."""
    return "".join(f"<{m.role}>\n{m.content}\n" for m in messages) + "<assistant>\n"


class FakeRuntime:
    """Streams queued replies, one per generation call, deterministically.

    Args:
        replies: Replies returned by successive ``stream_chat``/``stream_completion`` calls.
        model_id: The id it reports.
        n_ctx: The context size it reports; longer prompts raise ``ModelError`` like a real
            model would.
        default_reply: Returned when the queue is empty; None makes that a ``ModelError``.
        token_delay_s: Wait this long before each piece (waits on ``cancel``, no polling).
        fim: Whether ``fim_prompt`` is supported.
    """

    def __init__(
        self,
        replies: Iterable[str] = (),
        *,
        model_id: str = "fake",
        n_ctx: int = 4096,
        default_reply: str | None = "",
        token_delay_s: float = 0.0,
        fim: bool = True,
    ) -> None:
        self.model_id = model_id
        self.n_ctx = n_ctx
        self.last_stats = GenerationStats()
        self.replies: deque[str] = deque(replies)
        self.default_reply = default_reply
        self.token_delay_s = token_delay_s
        self.supports_fim = fim
        self.prompts: list[str] = []  # every prompt seen, in order (for assertions)
        self.temperatures: list[float] = []  # of each chat call, in order
        self.loaded = True
        self.unload_count = 0
        self._cached: list[str] = []

    def queue(self, *replies: str) -> None:
        """Add replies to the queue."""
        self.replies.extend(replies)

    def count_tokens(self, text: str) -> int:
        """Whitespace-separated words."""
        return len(text.split())

    def fim_prompt(self, prefix: str, suffix: str) -> str:
        """A fill-in-the-middle prompt (Qwen-coder token spelling)."""
        if not self.supports_fim:
            raise ModelError(f"The model {self.model_id} does not support fill-in-the-middle.")
        return f"<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Stream the next queued reply to ``messages``."""
        self.temperatures.append(temperature)
        return self._generate(format_messages(messages), max_tokens, stop, cancel)

    def stream_completion(
        self,
        prompt: str,
        *,
        max_tokens: int = 128,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Stream the next queued reply as the completion of ``prompt``."""
        return self._generate(prompt, max_tokens, stop, cancel)

    def unload(self) -> None:
        """Forget the cache (the next call "loads" again)."""
        self.loaded = False
        self.unload_count += 1
        self._cached = []

    def _next_reply(self) -> str:
        if self.replies:
            return self.replies.popleft()
        if self.default_reply is None:
            raise ModelError("FakeRuntime: no reply queued.")
        return self.default_reply

    def _generate(
        self,
        prompt: str,
        max_tokens: int,
        stop: Sequence[str],
        cancel: threading.Event | None,
    ) -> Iterator[str]:
        words = prompt.split()
        if len(words) >= self.n_ctx:
            raise ModelError(
                f"The prompt has {len(words)} tokens; {self.model_id} holds {self.n_ctx}."
            )
        reply = self._next_reply()
        self.prompts.append(prompt)
        return self._run(words, reply, max_tokens, stop, cancel)

    def _run(
        self,
        words: list[str],
        reply: str,
        max_tokens: int,
        stop: Sequence[str],
        cancel: threading.Event | None,
    ) -> Iterator[str]:
        start = time.perf_counter()
        cached = 0
        for old, new in zip(self._cached, words, strict=False):
            if old != new:
                break
            cached += 1
        self._cached = list(words)
        self.loaded = True
        stats = GenerationStats(prompt_tokens=len(words), cached_prompt_tokens=cached)
        self.last_stats = stats
        reason = "stop"
        cut = [reply.find(s) for s in stop if s and s in reply]
        if cut:
            reply = reply[: min(cut)]
        pieces = split_pieces(reply)
        if len(pieces) > max_tokens:
            pieces, reason = pieces[:max_tokens], "length"
        try:
            for piece in pieces:
                if self.token_delay_s and cancel is not None:
                    cancel.wait(self.token_delay_s)
                elif self.token_delay_s:
                    time.sleep(self.token_delay_s)
                if cancel is not None and cancel.is_set():
                    reason = "cancelled"
                    break
                if stats.completion_tokens == 0:
                    stats.ttft_s = time.perf_counter() - start
                stats.completion_tokens += 1
                yield piece
        except GeneratorExit:
            reason = "cancelled"
            raise
        finally:
            stats.duration_s = time.perf_counter() - start
            stats.stop_reason = reason
