"""Run ``greenpair serve``'s app with uvicorn in a thread on a free loopback port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 until the block ends; yields the base URL (``…/v1``)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    started = threading.Event()

    async def serve() -> None:
        # uvicorn sets ``started`` once the socket accepts connections.
        await server.serve(sockets=[sock])

    def run() -> None:
        import asyncio

        asyncio.run(serve())

    thread = threading.Thread(target=run, name="test-uvicorn", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        started.wait(0.02)  # uvicorn has no "started" event to wait on
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def free_port_and_token() -> tuple[int, str]:
    """A free loopback port and the bearer token ``greenpair serve token`` gives (both
    servers, ``serve`` and ``mcp --http``, check the same token)."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    token = subprocess.run([sys.executable, "-m", "greenpair", "serve", "token"],
                           capture_output=True, text=True, check=True).stdout.strip()
    return port, token
