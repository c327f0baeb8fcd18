"""Shapes shared by the routes: OpenAI-style errors, SSE lines, energy fields and headers."""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

if TYPE_CHECKING:
    from greenpair.core.energy import EnergyReport

REMOTE_NOTE = "measured on this machine only"


def error_response(status: int, message: str, *, kind: str = "invalid_request_error",
                   code: str | None = None, headers: dict[str, str] | None = None
                   ) -> JSONResponse:
    """An error body as OpenAI's API writes it."""
    body = {"error": {"message": message, "type": kind, "code": code, "param": None}}
    return JSONResponse(body, status_code=status, headers=headers)


def sse(payload: dict[str, Any] | str) -> str:
    """One server-sent event line (``[DONE]`` is passed as a string)."""
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"data: {data}\n\n"


def stream_error(exc: BaseException) -> str:
    """The in-band end of a stream that failed after it started (an error event, then
    ``[DONE]``): the status line has already been sent."""
    error = {"message": getattr(exc, "message", str(exc)), "type": "server_error",
             "code": None, "param": None}
    return sse({"error": error}) + sse("[DONE]")


def new_id(prefix: str) -> str:
    """A response id (``chatcmpl-…``, ``cmpl-…``)."""
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def now() -> int:
    """Unix time in seconds, for ``created``."""
    return int(time.time())


def energy_json(report: EnergyReport | None, *, remote: bool = False) -> dict[str, Any] | None:
    """The ``greenpair.energy`` extension object of a response."""
    if report is None:
        return None
    out: dict[str, Any] = {
        "joules": None if report.joules is None else round(report.joules, 4),
        "sensor": report.sensor,
        "estimated": report.estimated,
        "gco2e": None if report.gco2e is None else round(report.gco2e, 7),
        "duration_s": round(report.duration_s, 4),
    }
    if remote:
        out["note"] = REMOTE_NOTE
    return out


def energy_headers(report: EnergyReport | None, *, remote: bool = False) -> dict[str, str]:
    """``X-Greenpair-Energy-*`` headers for a response whose work is finished."""
    if report is None or report.joules is None:
        return {}
    headers = {
        "X-Greenpair-Energy-J": f"{report.joules:.4f}",
        "X-Greenpair-Energy-Sensor": report.sensor + (" (estimated)" if report.estimated else ""),
    }
    if remote:
        headers["X-Greenpair-Energy-Scope"] = REMOTE_NOTE
    return headers
