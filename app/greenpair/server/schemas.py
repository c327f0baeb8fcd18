"""Request bodies of the OpenAI-compatible API (unknown OpenAI fields are accepted).

Greenpair's own options travel in a ``greenpair`` extension object (``extra_body`` in the
official clients): ``{"greenpair": {"repo": "shop", "k": 8}}``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Extension(_Open):
    """The ``greenpair`` extension field of a request."""

    repo: str | None = None
    k: int | None = Field(default=None, ge=1, le=100)


class ChatMessage(_Open):
    """One chat message; ``content`` may be a string or a list of text parts."""

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text (text parts joined; other parts ignored)."""
        if isinstance(self.content, str):
            return self.content
        parts = self.content or []
        return "".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")


class ChatRequest(_Open):
    """``POST /v1/chat/completions``."""

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    stream_options: dict[str, Any] | None = None
    greenpair: Extension | None = None


class CompletionRequest(_Open):
    """``POST /v1/completions`` (``suffix`` makes it fill-in-the-middle)."""

    model: str | None = None
    prompt: str | list[str] = ""
    suffix: str | None = None
    max_tokens: int | None = Field(default=16, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    greenpair: Extension | None = None

    def prompt_text(self) -> str:
        """The prompt (a list of one prompt is accepted too)."""
        if isinstance(self.prompt, list):
            return "".join(self.prompt[:1])
        return self.prompt

    def stops(self) -> list[str]:
        """Stop strings as a list."""
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)[:4]


class EmbeddingRequest(_Open):
    """``POST /v1/embeddings``."""

    model: str | None = None
    input: str | list[str]
    encoding_format: str = "float"

    def texts(self) -> list[str]:
        """The inputs as a list."""
        return [self.input] if isinstance(self.input, str) else list(self.input)


class SearchRequest(_Open):
    """``POST /v1/search``: Greenpair's ranking of a repository for ``query``."""

    query: str = Field(min_length=1, max_length=4000)
    k: int = Field(default=10, ge=1, le=100)
    repo: str | None = None
