"""``POST /v1/completions``: plain completions, and fill-in-the-middle with ``suffix``.

Editor plugins that autocomplete through this API (Continue, Twinny, llama.vim-style
clients) send the text before the cursor as ``prompt`` and the text after it as
``suffix``. The runtime builds the model's own FIM prompt when the model has FIM tokens
(its capability, not its name); a model without them continues the prefix instead. A FIM
completion ends where code naturally ends (``CompletionStopper``: the statement or block,
or the model repeating the suffix), which spares tokens the editor would throw away.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from greenpair.core.assistant.suggest.stopping import CompletionStopper, stopped_stream
from greenpair.core.errors import ModelError
from greenpair.server.bridge import ThreadStream, call_in_thread
from greenpair.server.responses import (
    energy_headers,
    energy_json,
    new_id,
    now,
    sse,
    stream_error,
)
from greenpair.server.schemas import CompletionRequest

if TYPE_CHECKING:
    from greenpair.core.energy import EnergyReport
    from greenpair.server.state import ServerState

router = APIRouter()
MAX_CONTEXT_CHARS = 6000  # of prefix and of suffix: editors send whole files


@dataclass
class Done:
    """The end of a completion: figures for usage and the extension field."""

    fim: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"
    energy: EnergyReport | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _prompt(state: ServerState, body: CompletionRequest) -> tuple[str, str, str, bool]:
    """(prompt, prefix, suffix, fim) for the request."""
    prefix = body.prompt_text()
    if body.suffix is None:
        return prefix, prefix, "", False
    prefix, suffix = prefix[-MAX_CONTEXT_CHARS:], body.suffix[:MAX_CONTEXT_CHARS]
    try:
        return state.services.runtime.fim_prompt(prefix, suffix), prefix, suffix, True
    except ModelError:
        return prefix, prefix, suffix, False  # no FIM tokens: continue the prefix


def _pieces(state: ServerState, body: CompletionRequest,
            cancel: threading.Event) -> Iterator[str | Done]:
    services = state.services
    runtime = services.runtime
    max_tokens = min(body.max_tokens or 16, services.limits.max_tokens)
    temperature = 0.0 if body.temperature is None else body.temperature
    with services.meter.window("completion", model=services.model_id) as window:
        prompt, prefix, suffix, fim = _prompt(state, body)
        stops = body.stops()
        stream = runtime.stream_completion(prompt, max_tokens=max_tokens,
                                           temperature=temperature, stop=stops, cancel=cancel)
        stopper = CompletionStopper(prefix, suffix) if body.suffix is not None else None
        yield from stopped_stream(stream, stopper)  # the runtime applies ``stop`` itself
        cut = stopper is not None and stopper.done
        stats = runtime.last_stats
        window.tokens = stats.completion_tokens
        window.prompt_tokens = stats.prompt_tokens
    reason = "length" if stats.stop_reason == "length" and not cut else "stop"
    yield Done(fim=fim, prompt_tokens=stats.prompt_tokens,
               completion_tokens=stats.completion_tokens, finish_reason=reason,
               energy=window.report)


def _extension(state: ServerState, done: Done) -> dict[str, Any]:
    remote = state.services.remote_energy
    return {"fim": done.fim, "energy": energy_json(done.energy, remote=remote)}


def _usage(done: Done) -> dict[str, int]:
    return {"prompt_tokens": done.prompt_tokens, "completion_tokens": done.completion_tokens,
            "total_tokens": done.prompt_tokens + done.completion_tokens}


@router.post("/v1/completions", response_model=None)
async def completions(body: CompletionRequest, request: Request) -> Response:
    """A completion of ``prompt`` (fill-in-the-middle when ``suffix`` is given)."""
    state: ServerState = request.app.state.greenpair
    admission = state.generate
    await admission.acquire()
    make = lambda cancel: _pieces(state, body, cancel)  # noqa: E731
    if body.stream:
        usage = bool((body.stream_options or {}).get("include_usage"))
        stream = ThreadStream(admission, make, name="completion")
        return StreamingResponse(_completion_stream(state, stream, usage),
                                 media_type="text/event-stream")

    def collect(cancel: threading.Event) -> tuple[str, Done]:
        items = list(make(cancel))
        done = items[-1]
        assert isinstance(done, Done)
        return "".join(str(i) for i in items[:-1]), done

    text, done = await call_in_thread(request, admission, collect, name="completion")
    remote = state.services.remote_energy
    return JSONResponse({
        "id": new_id("cmpl"), "object": "text_completion", "created": now(),
        "model": state.services.model_id,
        "choices": [{"index": 0, "text": text, "logprobs": None,
                     "finish_reason": done.finish_reason}],
        "usage": _usage(done),
        "greenpair": _extension(state, done),
    }, headers=energy_headers(done.energy, remote=remote))


async def _completion_stream(state: ServerState, items: ThreadStream,
                             include_usage: bool) -> AsyncIterator[str]:
    ident, created, model = new_id("cmpl"), now(), state.services.model_id

    def chunk(text: str, finish: str | None = None, **extra: Any) -> str:
        return sse({"id": ident, "object": "text_completion", "created": created,
                    "model": model, **extra,
                    "choices": [{"index": 0, "text": text, "logprobs": None,
                                 "finish_reason": finish}]})

    done: Done | None = None
    try:
        async for item in items:
            if isinstance(item, Done):
                done = item
            else:
                yield chunk(item)
    except Exception as exc:  # noqa: BLE001 - the stream has started: report in-band
        yield stream_error(exc)
        return
    finally:
        items.close()
    assert done is not None
    yield chunk("", done.finish_reason, greenpair=_extension(state, done))
    if include_usage:
        yield sse({"id": ident, "object": "text_completion", "created": created,
                   "model": model, "choices": [], "usage": _usage(done)})
    yield sse("[DONE]")
