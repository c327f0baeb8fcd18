"""The runtime protocol every model backend implements.

One loaded model is shared by every surface, one generation at a time (backends hold a
lock). Generation is a generator of text pieces so callers can stream and cancel between
tokens: stop iterating (or set ``cancel``) and the backend stops at the next token.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass
class GenerationStats:
    """Figures of the last generation."""

    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0  # prompt tokens reused from the KV cache
    completion_tokens: int = 0
    ttft_s: float = 0.0  # time to first token
    duration_s: float = 0.0
    stop_reason: str = ""  # "stop", "length", "cancelled", "repetition"
    repetition_saved_tokens: int = 0  # budget left when a loop was cut off
    threads: int = 0  # CPU threads at the start (local backends)
    load_s: float = 0.0  # the model was not in memory: loading it took this (in ttft_s)

    @property
    def tokens_per_s(self) -> float:
        """Generation speed after the first token."""
        gen = self.duration_s - self.ttft_s
        if self.completion_tokens <= 1 or gen <= 0:
            return 0.0
        return (self.completion_tokens - 1) / gen


@dataclass(frozen=True)
class Message:
    """A chat message."""

    role: str  # system, user, assistant
    content: str


@runtime_checkable
class Runtime(Protocol):
    """A loaded (or lazily loaded) model."""

    model_id: str
    last_stats: GenerationStats

    @property
    def n_ctx(self) -> int:
        """The context size in tokens (prompt + reply must fit)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` with this model's tokenizer."""
        ...

    def fim_prompt(self, prefix: str, suffix: str) -> str:
        """A fill-in-the-middle prompt for ``prefix``/``suffix`` (feed it to ``stream_completion``).

        Raises:
            ModelError: The model has no fill-in-the-middle tokens.
        """
        ...

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Stream the assistant's reply to ``messages`` piece by piece.

        Backends whose ``supports_grammar`` is True also take ``grammar=`` (GBNF text) and
        never sample a token that leaves it.
        """
        ...

    def stream_completion(
        self,
        prompt: str,
        *,
        max_tokens: int = 128,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Stream a raw completion of ``prompt`` (used for fill-in-the-middle)."""
        ...

    def unload(self) -> None:
        """Free the model's memory; the next call loads it again."""
        ...
