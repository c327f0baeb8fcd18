"""``POST /v1/chat/completions``: answers grounded in a served repository.

The last user message is the question; the repository is the request's
``greenpair.repo`` or the server's default. The answer is Greenpair's ``Conversation``
(retrieval, packed context, checked citations). The model's own closing ``Sources:``
line is replaced by the checked citations, so clients that only read the text still get
valid ``path:start-end`` references; the same citations come as objects in the
``greenpair`` extension field (of the response, or of the last streamed chunk).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from greenpair.core.assistant.ask.conversation import (
    Answer,
    AskEvent,
    AskOptions,
    Conversation,
    Token,
)
from greenpair.core.assistant.ask.prompts import SOURCES_PREFIX
from greenpair.server.bridge import ThreadStream, call_in_thread
from greenpair.server.responses import (
    energy_headers,
    energy_json,
    new_id,
    now,
    sse,
    stream_error,
)
from greenpair.server.schemas import ChatRequest

if TYPE_CHECKING:
    from pathlib import Path

    from greenpair.server.state import ServerState

router = APIRouter()


class SourcesLineFilter:
    """Pass text through, holding back any line that starts with ``Sources:``."""

    def __init__(self) -> None:
        self._line = ""
        self._passing = False

    def feed(self, piece: str) -> str:
        """The part of ``piece`` that is surely not in a ``Sources:`` line."""
        out: list[str] = []
        for part in piece.split("\n")[:-1] if "\n" in piece else []:
            out.append(self._take(part))
            out.append(self._end_line())
        last = piece.rsplit("\n", 1)[-1]
        out.append(self._take(last))
        return "".join(out)

    def finish(self) -> str:
        """What is left (nothing when the last line was a ``Sources:`` line)."""
        line, self._line = self._line, ""
        return "" if _is_sources(line) else line

    def _take(self, part: str) -> str:
        if self._passing:
            return part
        self._line += part
        head = self._line.lstrip()
        if head and not (head.startswith(SOURCES_PREFIX) or SOURCES_PREFIX.startswith(head)):
            self._passing = True
            line, self._line = self._line, ""
            return line
        return ""

    def _end_line(self) -> str:
        line, self._line, passing = self._line, "", self._passing
        self._passing = False
        if passing:
            return "\n"
        return "" if _is_sources(line) else line + "\n"


def _is_sources(line: str) -> bool:
    return line.lstrip().startswith(SOURCES_PREFIX)


def sources_text(answer: Answer) -> str:
    """The checked citations as the answer's closing line."""
    if not answer.citations:
        return ""
    return f"\n\n{SOURCES_PREFIX} " + ", ".join(str(c) for c in answer.citations)


def extension(answer: Answer, repo: Path, remote: bool) -> dict[str, Any]:
    """The ``greenpair`` extension object of a finished answer."""
    return {
        "repo": str(repo),
        "citations": [c.to_json() for c in answer.citations],
        "citations_fallback": answer.citations_fallback,
        "rejected_citations": [c.to_json() for c in answer.rejected_citations],
        "context": answer.context,
        "energy": energy_json(answer.energy, remote=remote),
        "ttft_s": round(answer.ttft_s, 4),
        "model_load_s": round(answer.load_s, 3),  # > 0: the model was loaded for this answer
    }


def _usage(answer: Answer) -> dict[str, int]:
    return {"prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "total_tokens": answer.prompt_tokens + answer.completion_tokens}


def _finish_reason(answer: Answer) -> str:
    return "length" if answer.stop_reason == "length" else "stop"


def _options(state: ServerState, body: ChatRequest) -> AskOptions:
    opts = AskOptions()
    wanted = body.max_completion_tokens or body.max_tokens
    if wanted:
        opts.max_tokens = min(wanted, state.services.limits.max_tokens)
    if body.temperature is not None:
        opts.temperature = body.temperature
    if body.greenpair is not None and body.greenpair.k:
        opts.top_k = body.greenpair.k
    return opts


# Earlier turns a client sends with a follow-up: how many, and how much of each, are kept.
HISTORY_MESSAGES = 6
HISTORY_CHARS = 600


def _question(body: ChatRequest) -> str:
    """The last user message, preceded by a short transcript of the earlier turns.

    OpenAI clients are stateless: each request carries the whole conversation. Greenpair's
    prompt has its own system part, so client system messages are left out; the last few
    user and assistant turns (each cut to ``HISTORY_CHARS``) come before the question, so a
    follow-up such as "and where is it called?" is read, and searched, in its context.
    """
    turns = [m for m in body.messages if m.role in {"user", "assistant"} and m.text().strip()]
    last = max((i for i, m in enumerate(turns) if m.role == "user"), default=None)
    if last is None:
        return ""
    question = turns[last].text()
    earlier = turns[:last][-HISTORY_MESSAGES:]
    if not earlier:
        return question
    lines = [f"{'User' if m.role == 'user' else 'Assistant'}: "
             f"{' '.join(m.text().split())[:HISTORY_CHARS]}" for m in earlier]
    return "Earlier in this conversation:\n" + "\n".join(lines) + f"\n\nQuestion: {question}"


def _events(state: ServerState, repo: Path, question: str, opts: AskOptions,
            cancel: threading.Event) -> Iterator[AskEvent]:
    services = state.services
    conv = Conversation(repo, runtime=services.runtime, index=services.retriever(repo),
                        options=opts, meter=services.meter)
    yield from conv.ask(question, cancel=cancel)


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(body: ChatRequest, request: Request) -> Response:
    """An answer about the repository, with checked citations."""
    from greenpair.server.state import bad_request

    state: ServerState = request.app.state.greenpair
    repo = state.services.resolve_repo(body.greenpair.repo if body.greenpair else None)
    question = _question(body)
    if not question:
        return bad_request("The request has no user message with text.")
    opts = _options(state, body)
    admission = state.generate
    await admission.acquire()
    make = lambda cancel: _events(state, repo, question, opts, cancel)  # noqa: E731
    if body.stream:
        usage = bool((body.stream_options or {}).get("include_usage"))
        stream = ThreadStream(admission, make, name="chat")
        return StreamingResponse(_chat_stream(state, stream, repo, usage),
                                 media_type="text/event-stream")

    def collect(cancel: threading.Event) -> Answer:
        events = list(make(cancel))
        final = events[-1]
        assert isinstance(final, Answer)
        return final

    answer = await call_in_thread(request, admission, collect, name="chat")
    remote = state.services.remote_energy
    text_filter = SourcesLineFilter()
    content = (text_filter.feed(answer.answer) + text_filter.finish()).rstrip()
    content += sources_text(answer)
    return JSONResponse({
        "id": new_id("chatcmpl"), "object": "chat.completion", "created": now(),
        "model": state.services.model_id,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": _finish_reason(answer), "logprobs": None}],
        "usage": _usage(answer),
        "greenpair": extension(answer, repo, remote),
    }, headers=energy_headers(answer.energy, remote=remote))


async def _chat_stream(state: ServerState, events: ThreadStream, repo: Path,
                       include_usage: bool) -> AsyncIterator[str]:
    ident, created, model = new_id("chatcmpl"), now(), state.services.model_id

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return sse({"id": ident, "object": "chat.completion.chunk", "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    **extra})

    yield chunk({"role": "assistant", "content": ""})
    text_filter = SourcesLineFilter()
    answer: Answer | None = None
    try:
        async for event in events:
            if isinstance(event, Token):
                shown = text_filter.feed(event.text)
                if shown:
                    yield chunk({"content": shown})
            elif isinstance(event, Answer):
                answer = event
    except Exception as exc:  # noqa: BLE001 - the stream has started: report in-band
        yield stream_error(exc)
        return
    finally:
        events.close()
    assert answer is not None
    tail = text_filter.finish().rstrip() + sources_text(answer)
    if tail:
        yield chunk({"content": tail})
    remote = state.services.remote_energy
    yield chunk({}, _finish_reason(answer), greenpair=extension(answer, repo, remote))
    if include_usage:
        yield sse({"id": ident, "object": "chat.completion.chunk", "created": created,
                   "model": model, "choices": [], "usage": _usage(answer)})
    yield sse("[DONE]")
