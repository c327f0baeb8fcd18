"""What the routes share (``ServerState``) and the plain error reply they all use."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import JSONResponse

from greenpair.server.admission import Admission
from greenpair.server.responses import error_response
from greenpair.server.services import Services


@dataclass
class ServerState:
    """What the routes share: the services, the token and the queues."""

    services: Services
    token: str
    generate: Admission
    search: Admission


def bad_request(message: str) -> JSONResponse:
    """A 400 error response."""
    return error_response(400, message)
