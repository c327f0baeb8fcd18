"""The ASGI application: authentication, errors, and the small endpoints.

``create_app(services, token)`` returns a FastAPI app. Every route needs
``Authorization: Bearer <token>``; a wrong or missing token gets 401 before any work. A
full queue gets 429 with ``Retry-After``. ``GreenpairError`` texts are returned as
OpenAI-style errors (400, or 404 for an unknown repository). Finished work carries its
energy in ``X-Greenpair-Energy-J`` (streams: in the last chunk's ``greenpair.energy``),
and every request's energy window is written to the ledger by the meter.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import JSONResponse, Response

from greenpair import __version__
from greenpair.core.errors import GreenpairError
from greenpair.server import chat, completions
from greenpair.server.admission import Admission, Busy
from greenpair.server.auth import bearer_matches
from greenpair.server.bridge import ClientGone, call_in_thread
from greenpair.server.responses import energy_headers, error_response, now
from greenpair.server.schemas import EmbeddingRequest, SearchRequest
from greenpair.server.services import Services, UnknownRepository
from greenpair.server.state import ServerState, bad_request

EMBEDDING_MODEL = "all-minilm-l6-v2"


async def _require_token(request: Request) -> None:
    state: ServerState = request.app.state.greenpair
    if not bearer_matches(request.headers.get("authorization"), state.token):
        raise _Unauthorized


class _Unauthorized(Exception):
    pass


def create_app(services: Services, token: str) -> FastAPI:
    """The API for ``services``, guarded by ``token``."""
    limits = services.limits
    app = FastAPI(title="Greenpair", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None, dependencies=[Depends(_require_token)])
    app.state.greenpair = ServerState(
        services=services, token=token,
        generate=Admission("generate", limits.generate_slots, limits.generate_waiting, 5.0),
        search=Admission("search", limits.search_slots, limits.search_waiting, 0.2),
    )
    _add_error_handlers(app)
    app.include_router(chat.router)
    app.include_router(completions.router)
    app.add_api_route("/v1/models", _models, methods=["GET"])
    app.add_api_route("/v1/search", _search, methods=["POST"], response_model=None)
    app.add_api_route("/v1/embeddings", _embeddings, methods=["POST"], response_model=None)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    async def unauthorized(request: Request, exc: Exception) -> Response:
        return error_response(
            401, "A valid bearer token is required: `greenpair serve token` prints it.",
            code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})

    async def busy(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Busy)
        return error_response(
            429, f"The {exc.kind} queue is full; retry in {exc.retry_after_s} s.",
            kind="rate_limit_error", code="queue_full",
            headers={"Retry-After": str(exc.retry_after_s)})

    async def greenpair_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GreenpairError)
        status = 404 if isinstance(exc, UnknownRepository) else 400
        message = exc.message + (f" {exc.hint}" if exc.hint else "")
        return error_response(status, message)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error_response(400, f"Invalid request: {where}: {first.get('msg', 'invalid')}")

    async def gone(request: Request, exc: Exception) -> Response:
        return Response(status_code=499)  # nobody reads it; the work was cancelled

    app.add_exception_handler(_Unauthorized, unauthorized)
    app.add_exception_handler(Busy, busy)
    app.add_exception_handler(GreenpairError, greenpair_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(ClientGone, gone)


async def _models(request: Request) -> dict[str, Any]:
    state: ServerState = request.app.state.greenpair
    created = now()
    return {"object": "list", "data": [
        {"id": state.services.model_id, "object": "model", "created": created,
         "owned_by": "greenpair"},
        {"id": EMBEDDING_MODEL, "object": "model", "created": created,
         "owned_by": "greenpair"},
    ]}


async def _search(body: SearchRequest, request: Request) -> Response:
    state: ServerState = request.app.state.greenpair
    services = state.services
    repo = services.resolve_repo(body.repo)
    await state.search.acquire()

    def work(cancel: threading.Event) -> tuple[dict[str, Any], Any]:
        with services.meter.window("search", repo=str(repo)) as window:
            result = services.retriever(repo).search(body.query, k=body.k)
        return {**result.to_json(), "repo": str(repo)}, window.report

    payload, report = await call_in_thread(request, state.search, work, name="search")
    return JSONResponse(payload, headers=energy_headers(report))


async def _embeddings(body: EmbeddingRequest, request: Request) -> Response:
    state: ServerState = request.app.state.greenpair
    services = state.services
    texts = body.texts()
    if not texts or len(texts) > services.limits.max_embed_inputs:
        return bad_request(f"Send 1 to {services.limits.max_embed_inputs} inputs.")
    if body.encoding_format not in {"float", "base64"}:
        return bad_request("encoding_format must be float or base64.")
    await state.search.acquire()

    def work(cancel: threading.Event) -> tuple[np.ndarray, Any]:
        with services.meter.window("embeddings", inputs=len(texts)) as window:
            vectors = services.embedding_model().embed(texts)
        return vectors, window.report

    vectors, report = await call_in_thread(request, state.search, work, name="embed")
    data = []
    for i, row in enumerate(np.asarray(vectors, dtype=np.float32)):
        value: Any = (base64.b64encode(row.tobytes()).decode("ascii")
                      if body.encoding_format == "base64" else [float(x) for x in row])
        data.append({"object": "embedding", "index": i, "embedding": value})
    tokens = sum(max(1, len(t) // 4) for t in texts)
    return JSONResponse({"object": "list", "data": data, "model": EMBEDDING_MODEL,
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}},
                        headers=energy_headers(report))
