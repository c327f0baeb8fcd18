"""Run core generators in worker threads and stop them when the client goes away.

Core work is written as plain generators (STYLE.md §2) that accept a ``cancel`` event and
stop at the next token once it is set. The server runs each one in its own thread and
hands the items to the event loop through an ``asyncio.Queue``; when the request ends
early (the client disconnected, or the server shuts down) the event is set and the
generation stops at its next token. Nothing polls: the loop waits on the queue, and a
disconnect is noticed by awaiting the ASGI ``http.disconnect`` message.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from starlette.requests import Request

from greenpair.server.admission import Admission

T = TypeVar("T")
_END = object()


class ClientGone(Exception):
    """The client disconnected before the answer was complete."""


def _post(loop: asyncio.AbstractEventLoop, callback: Callable[..., Any], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop closed (server shutting down)
        loop.call_soon_threadsafe(callback, *args)


def _start(name: str, admission: Admission, loop: asyncio.AbstractEventLoop,
           body: Callable[[], None]) -> None:
    """Run ``body`` in a thread; the admission slot is released when it ends."""

    def run() -> None:
        start = time.perf_counter()
        try:
            body()
        finally:
            _post(loop, admission.release, time.perf_counter() - start)

    threading.Thread(target=run, name=f"greenpair-serve-{name}", daemon=True).start()


class ThreadStream:
    """Items of ``make(cancel)``, produced in a worker thread, as an async iterator.

    The thread starts at once (so its admission slot is released even if nobody ever
    reads); ``close()`` (the client went away) sets ``cancel`` and never waits.
    The caller must already hold a slot of ``admission`` (the thread releases it).
    """

    def __init__(self, admission: Admission, make: Callable[[threading.Event], Iterator[Any]],
                 *, name: str) -> None:
        loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[Any, BaseException | None]] = asyncio.Queue()
        self.cancel = threading.Event()
        self._finished = False
        queue, cancel = self._queue, self.cancel

        def body() -> None:
            try:
                for item in make(cancel):
                    _post(loop, queue.put_nowait, (item, None))
                    if cancel.is_set():
                        break
            except BaseException as exc:  # noqa: BLE001 - re-raised on the loop's side
                _post(loop, queue.put_nowait, (_END, exc))
            else:
                _post(loop, queue.put_nowait, (_END, None))

        _start(name, admission, loop, body)

    def __aiter__(self) -> ThreadStream:
        return self

    async def __anext__(self) -> Any:
        if self._finished:
            raise StopAsyncIteration
        item, exc = await self._queue.get()
        if item is _END:
            self._finished = True
            if exc is not None:
                raise exc
            raise StopAsyncIteration
        return item

    def close(self) -> None:
        """Stop the generation at its next item (returns at once)."""
        self.cancel.set()


async def wait_disconnect(request: Request) -> None:
    """Return when the client has disconnected (the request body is already read)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def call_in_thread(
    request: Request, admission: Admission, work: Callable[[threading.Event], T], *, name: str
) -> T:
    """``work(cancel)`` in a worker thread; cancelled if the client disconnects first.

    The caller must already hold a slot of ``admission`` (the thread releases it).

    Raises:
        ClientGone: The client went away before the work finished.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    cancel = threading.Event()

    def settle(result: Any, exc: BaseException | None) -> None:
        if done.done():
            return
        if exc is not None:
            done.set_exception(exc)
        else:
            done.set_result(result)

    def body() -> None:
        try:
            result = work(cancel)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the loop's side
            _post(loop, settle, None, exc)
        else:
            _post(loop, settle, result, None)

    _start(name, admission, loop, body)
    # Once the client is gone nobody awaits ``done``: retrieve its outcome anyway, so a
    # late failure is not reported as "Future exception was never retrieved".
    done.add_done_callback(lambda f: f.cancelled() or f.exception())
    watcher = asyncio.ensure_future(wait_disconnect(request))
    try:
        waiting: set[asyncio.Future[Any]] = {done, watcher}
        finished, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if done in finished:
            return done.result()
        cancel.set()
        raise ClientGone
    finally:
        watcher.cancel()
        if not done.done():
            cancel.set()
